package command

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"text/template/parse"
)

// A shell command template mixes bash text with template actions. How a
// value must be quoted depends on where the action stands in the bash
// syntax: single quotes protect a value in an unquoted word, but are plain
// characters inside "…", where $, ` and \ stay live. The scanner below reads
// the template's text the way bash would, keeping a stack of the quoting
// constructs that are open, and gives each action the quoting of its
// position. Where no quoting is safe, or where the text is beyond what the
// scanner models, the action is refused: a refusal costs the author a
// rewrite, a wrong guess runs a value as code.

// quoting is how one action's output is quoted.
type quoting int

const (
	quoteWord        quoting = iota // an unquoted word: '…' around the value
	quoteInSingle                   // inside '…': ' becomes '\''
	quoteInDouble                   // inside "…": \ " $ ` take a backslash
	quoteInANSI                     // inside $'…': \ and ' take a backslash
	quoteHeredoc                    // in an unquoted here-doc body: \ $ ` take a backslash
	quoteHeredocText                // in a quoted here-doc body: the value as it is
)

// quoteFuncs names the template function that applies each quoting.
var quoteFuncs = map[quoting]string{
	quoteWord:        "shellWord",
	quoteInSingle:    "shellInSingleQuotes",
	quoteInDouble:    "shellInDoubleQuotes",
	quoteInANSI:      "shellInANSIQuotes",
	quoteHeredoc:     "shellInHeredoc",
	quoteHeredocText: "shellInQuotedHeredoc",
}

type frameKind int

const (
	frameCode     frameKind = iota // shell code: the top level, $(…), <(…), >(…)
	frameSingle                    // '…'
	frameDouble                    // "…" or $"…"
	frameANSI                      // $'…'
	frameBacktick                  // `…`
	frameParam                     // ${…}
	frameArith                     // $((…)) or ((…))
	frameBracket                   // $[…]
	frameComment                   // # to the end of the line
	frameHeredoc                   // a here-doc body
)

// frame is one open construct.
type frame struct {
	kind      frameKind
	subst     bool // frameCode: closed by ')' ($(…), <(…), >(…))
	depth     int  // open ( in code and arithmetic, { in ${…}, [ in $[…]
	caseDepth int  // frameCode: open case…esac, whose patterns end in an unmatched )

	// frameCode: the word being read. These flags may be unknown after
	// template branches that disagree, which is harmless until a decision
	// needs them.
	wordStart tri // at the start of a word: # starts a comment, (( arithmetic
	cmdPos    tri // the word is in command position: case and esac count
	word      string
	tainted   bool // the word has quoted parts or template output: not a keyword

	// frameHeredoc
	doc      heredoc
	line     string // the text of the body line read so far
	expanded bool   // an expansion ($(, ${, $[, `) was opened in this body
}

// heredoc is a here-doc whose operator was read.
type heredoc struct {
	delim  string
	quoted bool // part of the delimiter word was quoted: the body is not expanded
	strip  bool // <<-: leading tabs are removed from body lines
}

// tri is a yes/no flag that may be unknown after template branches that
// disagree.
type tri int

const (
	no tri = iota
	yes
	maybe
)

// pend is a character whose meaning depends on the next one.
type pend int

const (
	pendNone        pend = iota
	pendEscape           // \ : the next character is literal
	pendDollar           // $
	pendDollarParen      // $(  : $(( is arithmetic
	pendParen            // ( at the start of a word: (( is arithmetic
	pendArithClose       // ) at depth 0 in arithmetic: must be ))
	pendLess             // one or more <
	pendGreater          // >
)

// shellState is the scanner's position in the bash syntax.
type shellState struct {
	frames  []frame
	pending []heredoc // here-docs whose bodies start at the next newline of code
	pend    pend
	less    int // consecutive < read (pendLess)

	// Reading a here-doc delimiter word after << or <<-.
	delim      *heredoc
	delimStart bool // still before the word's first character
	delimQuote byte // the quote open inside the word

	unknown string // why the rest of the text cannot be analysed
}

func newShellState() *shellState {
	return &shellState{frames: []frame{{kind: frameCode, wordStart: yes, cmdPos: yes}}}
}

func (s *shellState) clone() *shellState {
	c := *s
	c.frames = slices.Clone(s.frames)
	c.pending = slices.Clone(s.pending)
	if s.delim != nil {
		d := *s.delim
		c.delim = &d
	}
	return &c
}

func (s *shellState) top() *frame { return &s.frames[len(s.frames)-1] }

func (s *shellState) push(f frame) {
	if f.kind == frameCode {
		f.wordStart, f.cmdPos = yes, yes
	}
	s.frames = append(s.frames, f)
}

func (s *shellState) pop() {
	s.frames = s.frames[:len(s.frames)-1]
}

func (s *shellState) fail(format string, args ...any) {
	if s.unknown == "" {
		s.unknown = fmt.Sprintf(format, args...)
	}
}

// text feeds template text to the scanner.
func (s *shellState) text(t string) {
	for i := 0; i < len(t) && s.unknown == ""; i++ {
		s.char(t[i])
	}
}

// char reads one byte of template text.
func (s *shellState) char(c byte) {
	if s.delim != nil {
		s.delimChar(c)
		return
	}
	f := s.top()
	switch f.kind {
	case frameCode:
		s.codeChar(f, c)
	case frameSingle:
		if c == '\'' {
			s.pop()
		}
	case frameDouble:
		s.doubleChar(c)
	case frameANSI:
		switch {
		case s.pend == pendEscape:
			s.pend = pendNone
		case c == '\\':
			s.pend = pendEscape
		case c == '\'':
			s.pop()
		}
	case frameBacktick:
		switch {
		case s.pend == pendEscape:
			s.pend = pendNone
		case c == '\\':
			s.pend = pendEscape
		case c == '`':
			s.pop()
		case c == '\'' || c == '"':
			// bash ends `…` at the first unescaped backquote even
			// inside quotes, and the quotes are read again inside.
			s.fail("quotes inside `…`")
		}
	case frameParam, frameArith, frameBracket:
		s.exprChar(f, c)
	case frameComment:
		if c == '\n' {
			s.pop()
			s.char(c) // the newline ends a command line, here-docs start
		}
	case frameHeredoc:
		s.heredocChar(f, c)
	}
}

// codeChar reads a byte of shell code.
func (s *shellState) codeChar(f *frame, c byte) {
	switch s.pend {
	case pendEscape:
		s.pend = pendNone
		if c != '\n' { // \newline is a line continuation: nothing at all
			f.wordChar(c)
		}
		return
	case pendDollar, pendDollarParen:
		if s.expansion(c, false) {
			return
		}
		// $name, $1, $? or a lone $: part of the word; c is read below.
	case pendParen:
		s.pend = pendNone
		if c == '(' {
			s.push(frame{kind: frameArith})
			return
		}
		f.depth++
	case pendLess:
		n := s.less
		s.pend, s.less = pendNone, 0
		switch {
		case c == '<':
			s.pend, s.less = pendLess, n+1
			return
		case n == 1 && c == '(':
			s.push(frame{kind: frameCode, subst: true})
			return
		case n == 1 && c == '&':
			return // <&: part of the operator
		case n == 2:
			s.delim, s.delimStart = &heredoc{}, true
			if c == '-' {
				s.delim.strip = true
				return
			}
			s.char(c)
			return
		}
		// < or <<< (a here-string): the next word is an ordinary word.
	case pendGreater:
		s.pend = pendNone
		switch c {
		case '(':
			s.push(frame{kind: frameCode, subst: true})
			return
		case '&', '|', '>':
			return // >&, >|, >>: part of the operator
		}
	}
	switch c {
	case ' ', '\t':
		s.endWord(f)
		f.wordStart = yes
	case '\n':
		s.endWord(f)
		f.wordStart, f.cmdPos = yes, yes
		if len(s.pending) > 0 {
			s.startHeredoc()
		}
	case '#':
		switch f.wordStart {
		case yes:
			s.push(frame{kind: frameComment})
		case maybe:
			s.fail("a # that may or may not start a comment, depending on the template's branches")
		default:
			f.wordChar(c)
		}
	case '\\':
		s.pend = pendEscape
		f.wordStart, f.tainted = no, true
	case '\'':
		f.wordStart, f.tainted = no, true
		s.push(frame{kind: frameSingle})
	case '"':
		f.wordStart, f.tainted = no, true
		s.push(frame{kind: frameDouble})
	case '`':
		f.wordStart, f.tainted = no, true
		s.push(frame{kind: frameBacktick})
	case '$':
		f.wordStart, f.tainted = no, true
		s.pend = pendDollar
	case '(':
		start := f.wordStart
		s.endWord(f)
		f.wordStart, f.cmdPos = yes, yes
		switch start {
		case yes:
			s.pend = pendParen
		case maybe:
			s.fail("a ( that may or may not start ((…)), depending on the template's branches")
		default:
			f.depth++
		}
	case ')':
		s.endWord(f)
		f.wordStart, f.cmdPos = yes, yes
		switch {
		case f.depth > 0:
			f.depth--
		case f.caseDepth > 0:
			// the end of a case pattern
		case f.subst:
			s.pop()
		}
	case ';', '&', '|':
		s.endWord(f)
		f.wordStart, f.cmdPos = yes, yes
	case '<':
		s.endWord(f)
		f.wordStart = yes
		s.pend, s.less = pendLess, 1
	case '>':
		s.endWord(f)
		f.wordStart = yes
		s.pend = pendGreater
	default:
		f.wordChar(c)
	}
}

func (f *frame) wordChar(c byte) {
	f.word += string(c)
	f.wordStart = no
}

// reserved words after which a command starts.
var reserved = map[string]bool{
	"if": true, "then": true, "else": true, "elif": true, "while": true, "until": true,
	"do": true, "!": true, "{": true, "time": true,
}

// endWord ends the word being read in the code frame f and tracks
// case…esac, whose patterns end in a ) that does not close $(…).
func (s *shellState) endWord(f *frame) {
	w, cmd, tainted := f.word, f.cmdPos, f.tainted
	f.word, f.tainted = "", false
	if w == "" && !tainted {
		return
	}
	f.cmdPos = no
	if tainted {
		return
	}
	if (w == "case" || w == "esac") && cmd == maybe {
		s.fail("a %q that may or may not be a keyword, depending on the template's branches", w)
		return
	}
	if cmd != yes {
		return
	}
	switch {
	case w == "case":
		f.caseDepth++
	case w == "esac" && f.caseDepth > 0:
		f.caseDepth--
	case reserved[w]:
		f.cmdPos = yes
	}
}

// expansion reads the byte c after a pending `$` or `$(`, in code or,
// when quoted, inside "…" (where $'…' and $"…" are not quoting). It
// reports whether c was consumed; when not, c is an ordinary byte.
func (s *shellState) expansion(c byte, quoted bool) bool {
	if s.pend == pendDollarParen {
		s.pend = pendNone
		if c == '(' {
			s.push(frame{kind: frameArith})
			return true
		}
		s.push(frame{kind: frameCode, subst: true})
		s.char(c)
		return true
	}
	s.pend = pendNone
	switch {
	case c == '(':
		s.pend = pendDollarParen
	case c == '{':
		s.push(frame{kind: frameParam})
	case c == '[':
		s.push(frame{kind: frameBracket})
	case c == '\'' && !quoted:
		s.push(frame{kind: frameANSI})
	case c == '"' && !quoted:
		s.push(frame{kind: frameDouble})
	default:
		return false
	}
	return true
}

// doubleChar reads a byte inside "…".
func (s *shellState) doubleChar(c byte) {
	switch s.pend {
	case pendEscape:
		s.pend = pendNone
		return
	case pendDollar, pendDollarParen:
		if s.expansion(c, true) {
			return
		}
	}
	switch c {
	case '\\':
		s.pend = pendEscape
	case '"':
		s.pop()
	case '$':
		s.pend = pendDollar
	case '`':
		s.push(frame{kind: frameBacktick})
	}
}

// exprChar reads a byte inside ${…}, $((…)), ((…)) or $[…]. Only plain
// expressions are followed: quotes, backslashes and substitutions inside
// them have rules of their own, so the scanner gives up there.
func (s *shellState) exprChar(f *frame, c byte) {
	if s.pend == pendArithClose {
		s.pend = pendNone
		if c != ')' {
			s.fail("a ) inside ((…)) that is not ))")
			return
		}
		s.pop()
		return
	}
	if s.pend == pendDollar {
		s.pend = pendNone
		if c == '(' || c == '{' || c == '[' {
			s.fail("a substitution inside an arithmetic or ${…} expression")
			return
		}
	}
	open, closing := exprBrackets[f.kind][0], exprBrackets[f.kind][1]
	switch c {
	case '\'', '"', '`', '\\':
		s.fail("quotes or backslashes inside an arithmetic or ${…} expression")
	case '$':
		s.pend = pendDollar
	case open:
		f.depth++
	case closing:
		switch {
		case f.depth > 0:
			f.depth--
		case f.kind == frameArith:
			s.pend = pendArithClose
		default:
			s.pop()
		}
	}
}

// exprBrackets are the brackets that nest in each kind of expression.
var exprBrackets = map[frameKind]string{frameParam: "{}", frameArith: "()", frameBracket: "[]"}

// delimChar reads a byte of a here-doc's delimiter word.
func (s *shellState) delimChar(c byte) {
	d := s.delim
	if s.pend == pendEscape {
		s.pend = pendNone
		d.delim += string(c)
		return
	}
	if s.delimQuote != 0 {
		if c == s.delimQuote {
			s.delimQuote = 0
		} else {
			d.delim += string(c)
		}
		return
	}
	switch c {
	case ' ', '\t':
		if s.delimStart {
			return
		}
	case '\'', '"':
		s.delimStart, s.delimQuote, d.quoted = false, c, true
		return
	case '\\':
		s.delimStart, d.quoted = false, true
		s.pend = pendEscape
		return
	case '$', '`':
		s.fail("a here-doc delimiter with $ or `")
		return
	}
	if strings.IndexByte(" \t\n;&|()<>", c) < 0 {
		s.delimStart = false
		d.delim += string(c)
		return
	}
	if s.delimStart {
		s.fail("a << without a delimiter word")
		return
	}
	s.pending = append(s.pending, *d)
	s.delim = nil
	s.char(c)
}

func (s *shellState) startHeredoc() {
	s.push(frame{kind: frameHeredoc, doc: s.pending[0]})
	s.pending = s.pending[1:]
	if len(s.pending) == 0 {
		s.pending = nil // states compare equal whatever the path here
	}
}

// heredocChar reads a byte of a here-doc body. bash reads the body line by
// line and ends it at the first line equal to the delimiter, before it
// expands anything, so lines are all that matter here, with one exception:
// once the body opens an expansion, the scanner stops quoting in it.
func (s *shellState) heredocChar(f *frame, c byte) {
	if !f.doc.quoted {
		switch s.pend {
		case pendEscape:
			s.pend = pendNone
			if c == '\n' {
				// bash joins the lines before it compares them
				// with the delimiter.
				s.fail("a \\ at the end of a line in a here-doc")
				return
			}
		case pendDollar:
			s.pend = pendNone
			if c == '(' || c == '{' || c == '[' {
				f.expanded = true
			}
		default:
			switch c {
			case '\\':
				s.pend = pendEscape
			case '$':
				s.pend = pendDollar
			case '`':
				f.expanded = true
			}
		}
	}
	if c != '\n' {
		f.line += string(c)
		return
	}
	line := f.line
	if f.doc.strip {
		line = strings.TrimLeft(line, "\t")
	}
	f.line = ""
	switch {
	case line == f.doc.delim:
		s.pop()
		if len(s.pending) > 0 {
			s.startHeredoc()
		}
	case strings.HasPrefix(line, f.doc.delim):
		// Inside $(…), bash also ends the body at a line such as EOF).
		s.fail("a here-doc line that starts with its delimiter %q", f.doc.delim)
	}
}

// divergesFrom reports whether the start of a here-doc line already differs
// from the delimiter, so that no value later on the line can make the line
// the delimiter, or (inside $(…)) start with it.
func divergesFrom(line string, doc heredoc) bool {
	if doc.strip {
		line = strings.TrimLeft(line, "\t")
	}
	for i := 0; i < len(line) && i < len(doc.delim); i++ {
		if line[i] != doc.delim[i] {
			return true
		}
	}
	return false
}

// action decides how the output of an action at the scanner's current
// position is quoted; it returns an error when no quoting is safe there.
// name is how the error names the action.
func (s *shellState) action(name string) (quoting, error) {
	refuse := func(why string) (quoting, error) {
		return 0, fmt.Errorf("%s: no quoting is safe here: %s", name, why)
	}
	if s.unknown != "" {
		return refuse("the shell text before it is beyond what gridstudy can follow (" + s.unknown + ")")
	}
	if s.delim != nil {
		return refuse("it is part of a here-doc delimiter")
	}
	f := s.top()
	switch s.pend {
	case pendEscape:
		return refuse("it follows a backslash, which would escape the quoting")
	case pendDollar:
		return refuse("it follows a $, which would join the value to an expansion")
	case pendArithClose:
		return refuse("it is inside an arithmetic expression")
	case pendLess:
		if s.less == 2 {
			return refuse("it is a here-doc delimiter")
		}
		s.pend, s.less = pendNone, 0
	case pendGreater:
		s.pend = pendNone
	case pendParen:
		s.pend = pendNone
		f.depth++
	case pendDollarParen:
		s.pend = pendNone
		s.push(frame{kind: frameCode, subst: true})
		f = s.top()
	}
	for _, g := range s.frames {
		switch g.kind {
		case frameBacktick:
			return refuse("it is inside `…`, whose text bash reads twice; use $(…)")
		case frameParam:
			return refuse("it is inside ${…}, where quotes have rules of their own")
		case frameArith, frameBracket:
			return refuse("it is inside an arithmetic expression, which would evaluate the value")
		case frameComment:
			return refuse("it is inside a # comment, which a value with a newline would end")
		}
	}
	switch f.kind {
	case frameSingle:
		return quoteInSingle, nil
	case frameDouble:
		return quoteInDouble, nil
	case frameANSI:
		return quoteInANSI, nil
	case frameHeredoc:
		if f.expanded {
			return refuse("it follows an expansion ($(…), ${…} or `…`) in the same here-doc")
		}
		if !divergesFrom(f.line, f.doc) {
			return refuse(fmt.Sprintf("the text before it on its here-doc line does not tell the line from the delimiter %q, which a value could complete; start the line with other text", f.doc.delim))
		}
		if f.doc.quoted {
			return quoteHeredocText, nil
		}
		return quoteHeredoc, nil
	}
	// An unquoted word, which now holds template output: not a keyword.
	f.wordStart, f.tainted = no, true
	return quoteWord, nil
}

// wordless returns s without the word-level flags of its code frames.
func wordless(s *shellState) *shellState {
	c := s.clone()
	for i := range c.frames {
		f := &c.frames[i]
		f.wordStart, f.cmdPos, f.word, f.tainted = no, no, "", false
	}
	return c
}

// sameContext reports whether two states differ at most in the word-level
// flags, which template branches may leave different.
func sameContext(a, b *shellState) bool {
	return reflect.DeepEqual(wordless(a), wordless(b))
}

// merge joins the states at the end of two template branches; ok is false
// when the branches leave the shell in different contexts.
func merge(a, b *shellState) (m *shellState, ok bool) {
	if !sameContext(a, b) {
		return nil, false
	}
	m = a.clone()
	for i := range m.frames {
		f, g := &m.frames[i], &b.frames[i]
		if f.wordStart != g.wordStart {
			f.wordStart = maybe
		}
		if f.cmdPos != g.cmdPos {
			f.cmdPos = maybe
		}
		if f.word != g.word || f.tainted != g.tainted {
			f.word, f.tainted = "", true
		}
	}
	return m, true
}

// analyzer walks a parsed command template and decides the quoting of every
// action that prints.
type analyzer struct {
	tree      *parse.Tree
	decisions map[*parse.ActionNode]quoting
	loops     []*shellState // the state at the start of each enclosing range body
}

// name is how errors name the node: its position in the command and its text.
func (a *analyzer) name(n parse.Node) string {
	loc, _ := a.tree.ErrorContext(n)
	text := n.String()
	if len(text) > 80 {
		text = text[:77] + "..."
	}
	return loc + ": " + text
}

func (a *analyzer) list(l *parse.ListNode, s *shellState) (*shellState, error) {
	if l == nil {
		return s, nil
	}
	for _, n := range l.Nodes {
		var err error
		if s, err = a.node(n, s); err != nil {
			return nil, err
		}
	}
	return s, nil
}

func (a *analyzer) node(n parse.Node, s *shellState) (*shellState, error) {
	switch n := n.(type) {
	case *parse.TextNode:
		s.text(string(n.Text))
	case *parse.ActionNode:
		if len(n.Pipe.Decl) > 0 {
			return s, nil // {{ $x := … }} prints nothing
		}
		q, err := s.action(a.name(n))
		if err != nil {
			return nil, err
		}
		// A range body analysed twice starts in the same context but for
		// word-level flags, which do not change the quoting: q is the
		// same each time.
		a.decisions[n] = q
	case *parse.IfNode:
		return a.branches(n, &n.BranchNode, s)
	case *parse.WithNode:
		return a.branches(n, &n.BranchNode, s)
	case *parse.RangeNode:
		return a.rangeNode(n, s)
	case *parse.BreakNode, *parse.ContinueNode:
		if l := len(a.loops); l == 0 || !sameContext(a.loops[l-1], s) {
			return nil, fmt.Errorf("%s: it leaves the range in another shell context than the one it started in", a.name(n))
		}
	case *parse.TemplateNode:
		return nil, fmt.Errorf("%s: {{template}} is not supported in a shell command: its text could not be quoted for where it is called; write it out", a.name(n))
	case *parse.CommentNode:
	default:
		return nil, fmt.Errorf("%s: unexpected template node", a.name(n))
	}
	return s, nil
}

// branches analyses both branches of an if or with from the same state;
// they must end in the same shell context.
func (a *analyzer) branches(n parse.Node, b *parse.BranchNode, s *shellState) (*shellState, error) {
	t, err := a.list(b.List, s.clone())
	if err != nil {
		return nil, err
	}
	e, err := a.list(b.ElseList, s.clone())
	if err != nil {
		return nil, err
	}
	m, ok := merge(t, e)
	if !ok {
		return nil, fmt.Errorf("%s: its branches leave the shell in different quoting contexts (an unclosed quote or substitution in one of them?)", a.name(n))
	}
	return m, nil
}

// rangeNode analyses a range body until the state at its start and at its
// end agree (the body runs after itself), then the else branch. Each merge
// only widens word-level flags to maybe or taints the word, so the loop
// ends after a few passes.
func (a *analyzer) rangeNode(n *parse.RangeNode, s *shellState) (*shellState, error) {
	start := s
	for {
		a.loops = append(a.loops, start)
		end, err := a.list(n.List, start.clone())
		a.loops = a.loops[:len(a.loops)-1]
		if err != nil {
			return nil, err
		}
		m, ok := merge(start, end)
		if !ok {
			return nil, fmt.Errorf("%s: its body leaves the shell in another quoting context than the one it starts in", a.name(n))
		}
		if reflect.DeepEqual(m, start) {
			break
		}
		start = m
	}
	e, err := a.list(n.ElseList, start.clone())
	if err != nil {
		return nil, err
	}
	m, ok := merge(start, e)
	if !ok {
		return nil, fmt.Errorf("%s: its else branch leaves the shell in another quoting context than its body", a.name(n))
	}
	return m, nil
}
