// Package metricslog parses the metrics that a run's command reports: JSON
// lines appended to the file named by GRIDSTUDY_METRICS, and a metrics.json
// object left in the run folder.
//
// A line is one flat JSON object. Without a "step" key it holds final
// metrics ({"ms_ssim": 0.91, "psnr": 31.2}); with one it holds history
// ({"step": 10, "loss": 0.12}). Values are numbers, booleans or strings.
// Python's json.dumps writes NaN, Infinity and -Infinity as bare tokens,
// which strict JSON forbids; they are read as the float64 values they name,
// because a diverged run's NaN loss is a result worth keeping. null values
// are skipped (no value, as a missing key). Nested objects and arrays make a
// line malformed: a metric is one column of one type.
//
// The command writes these files and the runner reads them, in the same
// allocation: ReadFile and ReadAll read only regular files, within a size
// cap (MaxFileSize), and a Report holds at most MaxMetrics final metrics, so
// that no file a command leaves can make the runner block, spin or run out
// of memory.
package metricslog

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// MaxLine is the longest line Read accepts; a longer one is malformed. It
// bounds the memory a runaway writer can make the runner spend.
const MaxLine = 1 << 20

// MaxMetrics is the most final metrics a Report keeps. Each becomes a
// column of the run's shard and of collect's tables, and a Parquet file
// with millions of columns takes minutes to write and gigabytes to read:
// a command that reports a new name per line must not do that to a study.
const MaxMetrics = 10000

// Line is one parsed metrics line.
type Line struct {
	// HasStep says whether the line held a "step" key: history rather
	// than final metrics.
	HasStep bool
	Step    int64
	// Values maps metric names to float64, bool or string values. The
	// step is not among them.
	Values map[string]any
}

// Point is one history value: a metric at a step.
type Point struct {
	Step  int64
	Name  string
	Value float64
}

// Report is everything read from one run's metrics.
type Report struct {
	// Final maps metric names to float64, bool or string values; a later
	// line overrides an earlier one.
	Final map[string]any
	// History holds the numeric values of lines with a step, in file order.
	// Booleans are stored as 0 and 1; strings cannot be, and are dropped
	// (Dropped counts them).
	History []Point
	Dropped int
	// DroppedNames counts final metric values dropped because the report
	// held MaxMetrics names already.
	DroppedNames int
	// BadLines counts malformed lines; FirstBad describes the first one,
	// with its line number and the line itself, quoted and cut to 200
	// bytes.
	BadLines int
	FirstBad string
}

// ParseLine parses one metrics line. Surrounding white space is allowed.
func ParseLine(b []byte) (Line, error) {
	values, err := ParseObject(b)
	if err != nil {
		return Line{}, err
	}
	l := Line{Values: values}
	step, ok := values["step"]
	if !ok {
		return l, nil
	}
	delete(values, "step")
	f, isNum := step.(float64)
	if !isNum || f != math.Trunc(f) || math.Abs(f) > 1<<53 {
		return Line{}, fmt.Errorf("step %s is not an integer", cut(fmt.Sprintf("%#v", step)))
	}
	l.HasStep, l.Step = true, int64(f)
	return l, nil
}

// ParseObject parses one flat JSON object (such as metrics.json) into
// metric names and float64, bool or string values, with the same rules as
// ParseLine; a "step" key is an ordinary value here. A key given twice keeps
// its last value, as in encoding/json.
func ParseObject(b []byte) (map[string]any, error) {
	p := parser{b: b}
	p.space()
	if !p.consume('{') {
		return nil, p.errorf("want an object")
	}
	values := map[string]any{}
	p.space()
	if p.consume('}') {
		return values, p.end()
	}
	for {
		p.space()
		key, err := p.str()
		if err != nil {
			return nil, err
		}
		p.space()
		if !p.consume(':') {
			return nil, p.errorf("want ':' after key %s", cut(strconv.Quote(key)))
		}
		p.space()
		v, err := p.value()
		if err != nil {
			return nil, fmt.Errorf("key %s: %w", cut(strconv.Quote(key)), err)
		}
		if v != nil {
			values[key] = v
		} else {
			delete(values, key)
		}
		p.space()
		if p.consume(',') {
			continue
		}
		if p.consume('}') {
			return values, p.end()
		}
		return nil, p.errorf("want ',' or '}'")
	}
}

// cut shortens a quoted name or value for an error message, which ends up
// in the shard's error column: a megabyte-long key must not put a megabyte
// there.
func cut(s string) string {
	const max = 60
	if len(s) <= max {
		return s
	}
	n := max
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// parser reads one flat JSON object by hand, because encoding/json rejects
// the NaN and Infinity tokens that Python writes.
type parser struct {
	b []byte
	i int
}

func (p *parser) errorf(format string, args ...any) error {
	return fmt.Errorf("at byte %d: %s", p.i+1, fmt.Sprintf(format, args...))
}

func (p *parser) space() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *parser) consume(c byte) bool {
	if p.i < len(p.b) && p.b[p.i] == c {
		p.i++
		return true
	}
	return false
}

func (p *parser) end() error {
	p.space()
	if p.i != len(p.b) {
		return p.errorf("unexpected text after the object")
	}
	return nil
}

// str reads a JSON string, escapes included.
func (p *parser) str() (string, error) {
	if p.i >= len(p.b) || p.b[p.i] != '"' {
		return "", p.errorf("want a string")
	}
	start := p.i
	for p.i++; p.i < len(p.b); p.i++ {
		switch p.b[p.i] {
		case '\\':
			p.i++
		case '"':
			p.i++
			raw := p.b[start+1 : p.i-1]
			// Most names and values need no decoding, and decoding every
			// one through encoding/json makes a 64 MiB history file take
			// seconds longer.
			if plain(raw) {
				return string(raw), nil
			}
			var s string
			// encoding/json knows every escape and rejects control
			// characters and bad UTF-8 escapes; the raw text is already
			// delimited, so it only decodes.
			if err := json.Unmarshal(p.b[start:p.i], &s); err != nil {
				return "", fmt.Errorf("at byte %d: bad string: %w", start+1, err)
			}
			return s, nil
		}
	}
	return "", p.errorf("unterminated string")
}

// plain reports whether the text between a string's quotes is its value as
// it stands: valid UTF-8 without escapes or control characters, which is
// what encoding/json would decode it to.
func plain(b []byte) bool {
	for _, c := range b {
		if c == '\\' || c < 0x20 {
			return false
		}
	}
	return utf8.Valid(b)
}

// value reads a scalar: nil for null.
func (p *parser) value() (any, error) {
	if p.i >= len(p.b) {
		return nil, p.errorf("want a value")
	}
	for _, w := range [...]struct {
		word string
		v    any
	}{{"true", true}, {"false", false}, {"null", nil}, {"NaN", math.NaN()}, {"Infinity", math.Inf(1)}, {"-Infinity", math.Inf(-1)}} {
		if strings.HasPrefix(string(p.b[p.i:min(len(p.b), p.i+len(w.word))]), w.word) {
			p.i += len(w.word)
			return w.v, nil
		}
	}
	switch c := p.b[p.i]; {
	case c == '"':
		return p.str()
	case c == '-' || c >= '0' && c <= '9':
		return p.number()
	case c == '{' || c == '[':
		return nil, p.errorf("nested objects and arrays are not metrics")
	}
	return nil, p.errorf("want a number, string, boolean or null")
}

// number reads a JSON number, checking its grammar: strconv.ParseFloat
// alone would also take hex, underscores and "inf".
func (p *parser) number() (float64, error) {
	start := p.i
	p.consume('-')
	digits := func() int {
		n := 0
		for p.i < len(p.b) && p.b[p.i] >= '0' && p.b[p.i] <= '9' {
			p.i++
			n++
		}
		return n
	}
	if p.consume('0') {
		if p.i < len(p.b) && p.b[p.i] >= '0' && p.b[p.i] <= '9' {
			return 0, p.errorf("leading zero in number")
		}
	} else if digits() == 0 {
		return 0, p.errorf("bad number")
	}
	if p.consume('.') && digits() == 0 {
		return 0, p.errorf("bad number: no digits after '.'")
	}
	if p.consume('e') || p.consume('E') {
		if !p.consume('+') {
			p.consume('-')
		}
		if digits() == 0 {
			return 0, p.errorf("bad number: no digits in exponent")
		}
	}
	f, err := strconv.ParseFloat(string(p.b[start:p.i]), 64)
	// Out of range reads as ±Inf (or 0), which is what Python would have
	// written for such a value anyway.
	var ne *strconv.NumError
	if err != nil && !(errors.As(err, &ne) && errors.Is(ne.Err, strconv.ErrRange)) {
		return 0, fmt.Errorf("at byte %d: %w", start+1, err)
	}
	return f, nil
}

// Add parses one line (without its newline) numbered lineNo from 1 and adds
// it to the report. Blank lines are ignored; malformed lines are counted.
func (r *Report) Add(lineNo int, b []byte) {
	if len(bytes.TrimSpace(b)) == 0 {
		return
	}
	l, err := ParseLine(b)
	if err != nil {
		r.bad(lineNo, b, err)
		return
	}
	if !l.HasStep {
		r.MergeFinal(l.Values)
		return
	}
	names := make([]string, 0, len(l.Values))
	for name := range l.Values {
		names = append(names, name)
	}
	// Sorted so that history shards come out the same run to run.
	sort.Strings(names)
	for _, name := range names {
		var f float64
		switch v := l.Values[name].(type) {
		case float64:
			f = v
		case bool:
			if v {
				f = 1
			}
		default:
			r.Dropped++
			continue
		}
		r.History = append(r.History, Point{Step: l.Step, Name: name, Value: f})
	}
}

// MergeFinal sets each of values as a final metric, overriding an earlier
// value of the same name. A new name beyond MaxMetrics is dropped and
// counted in DroppedNames.
func (r *Report) MergeFinal(values map[string]any) {
	if r.Final == nil {
		r.Final = map[string]any{}
	}
	var fresh []string
	for k, v := range values {
		if _, ok := r.Final[k]; ok {
			r.Final[k] = v
		} else {
			fresh = append(fresh, k)
		}
	}
	if len(r.Final)+len(fresh) > MaxMetrics {
		// Which names stay must not depend on map order.
		sort.Strings(fresh)
	}
	for i, k := range fresh {
		if len(r.Final) >= MaxMetrics {
			r.DroppedNames += len(fresh) - i
			return
		}
		r.Final[k] = values[k]
	}
}

func (r *Report) bad(lineNo int, b []byte, err error) {
	r.BadLines++
	if r.BadLines > 1 {
		return
	}
	quoted := b
	if len(quoted) > 200 {
		quoted = quoted[:200]
	}
	r.FirstBad = fmt.Sprintf("metrics line %d: %v: %q", lineNo, err, quoted)
}

// Read reads a metrics stream to its end. A line longer than MaxLine is
// counted malformed and skipped. Only a failure of rd itself is an error.
func Read(rd io.Reader) (*Report, error) {
	r := &Report{}
	br := bufio.NewReaderSize(rd, 64<<10)
	var line []byte
	tooLong := false
	for n := 1; ; {
		chunk, err := br.ReadSlice('\n')
		if !tooLong {
			if len(line)+len(chunk) > MaxLine {
				tooLong, line = true, line[:0]
			} else {
				line = append(line, chunk...)
			}
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if tooLong {
			r.bad(n, nil, fmt.Errorf("line longer than %d bytes", MaxLine))
		} else if len(line) > 0 {
			r.Add(n, bytes.TrimRight(line, "\r\n"))
		}
		line, tooLong = line[:0], false
		n++
		if errors.Is(err, io.EOF) {
			return r, nil
		}
		if err != nil {
			return r, fmt.Errorf("read metrics: %w", err)
		}
	}
}
