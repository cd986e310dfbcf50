// Command gridstudy runs parameter grid studies of ML and imaging models on
// SLURM clusters and single workstations. See the README for an overview.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"

	"github.com/spf13/pflag"

	"github.com/gridstudy/gridstudy/internal/study"
	"github.com/gridstudy/gridstudy/internal/studydir"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// env carries what a command needs from its surroundings, so tests can
// call commands with their own stdio and working directory.
type env struct {
	stdout io.Writer
	stderr io.Writer
}

// command is one verb of gridstudy.
type command struct {
	name  string
	usage string // arguments after the verb
	short string // one line for the command list
	long  string // paragraph for --help
	// flags registers the command's flags; run executes it with the
	// positional arguments left after parsing.
	flags func(fs *pflag.FlagSet)
	run   func(ctx context.Context, e *env, fs *pflag.FlagSet, args []string) error
}

func commands() []*command {
	return []*command{
		planCmd(),
		paramsCmd(),
		submitCmd(),
		statusCmd(),
		resumeCmd(),
		cancelCmd(),
		execCmd(),
		collectCmd(),
		metricsCmd(),
		runCmd(),
	}
}

// usageError is bad usage: exit code 2 and a hint to ask for help.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// exitCodes is the line that --help and the command list end with.
const exitCodes = "Exit codes: 0 success, 1 runtime failure, 2 bad usage or a missing, unreadable or bad study, 130 interrupted (Ctrl-C, SIGTERM)."

func main() {
	os.Exit(mainCode())
}

// mainCode runs gridstudy with the process's arguments and stdio; tests
// register it as the gridstudy command of their scripts.
func mainCode() int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return run(ctx, os.Args[1:], &env{stdout: os.Stdout, stderr: os.Stderr})
}

// run executes one gridstudy command line and returns its exit code:
// 0 success, 1 runtime failure, 2 bad usage or a missing, unreadable or bad
// study, 130 interrupted.
func run(ctx context.Context, args []string, e *env) (code int) {
	defer func() {
		if r := recover(); r != nil {
			fmt.Fprintf(e.stderr, "gridstudy: internal error: %v\nPlease report this with the command line that caused it.\n", r)
			code = 1
		}
	}()
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		if len(args) > 1 {
			return run(ctx, []string{args[1], "--help"}, e)
		}
		printUsage(e.stdout)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	if args[0] == "--version" || args[0] == "version" {
		fmt.Fprintf(e.stdout, "gridstudy %s\n", version)
		return 0
	}
	var cmd *command
	for _, c := range commands() {
		if c.name == args[0] {
			cmd = c
		}
	}
	if cmd == nil {
		fmt.Fprintf(e.stderr, "gridstudy: unknown command %q\nRun 'gridstudy help' for the list of commands.\n", args[0])
		return 2
	}
	fs := pflag.NewFlagSet(cmd.name, pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.SortFlags = false
	if cmd.flags != nil {
		cmd.flags(fs)
	}
	verbose := fs.BoolP("verbose", "v", false, "print internal detail with errors")
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			printCommandHelp(e.stdout, cmd, fs)
			return 0
		}
		fmt.Fprintf(e.stderr, "gridstudy %s: %v\nRun 'gridstudy %s --help' for usage.\n", cmd.name, err, cmd.name)
		return 2
	}
	err := cmd.run(ctx, e, fs, fs.Args())
	if err == nil {
		return 0
	}
	return report(e.stderr, cmd.name, err, *verbose)
}

// report prints err for a user and maps it to an exit code.
func report(w io.Writer, name string, err error, verbose bool) int {
	var ue *usageError
	var ie *studydir.InputError
	var me *studydir.ManifestError
	var inv *study.InvalidError
	switch {
	case errors.As(err, &ue):
		fmt.Fprintf(w, "gridstudy %s: %v\nRun 'gridstudy %s --help' for usage.\n", name, ue, name)
		return 2
	case errors.As(err, &ie):
		fmt.Fprintf(w, "gridstudy %s: %v\n", name, ie)
		return 2
	case errors.As(err, &me):
		fmt.Fprintf(w, "gridstudy %s: %v\n", name, me)
		return 2
	case errors.As(err, &inv):
		fmt.Fprintf(w, "%v\n", inv)
		n := len(inv.Problems)
		fmt.Fprintf(w, "gridstudy %s: %d problem%s in %s; nothing was written\n", name, n, plural(n), inv.File)
		return 2
	case errors.Is(err, context.Canceled):
		fmt.Fprintf(w, "gridstudy %s: interrupted\n", name)
		return 130
	}
	msg := err.Error()
	if !verbose {
		msg, _, _ = strings.Cut(msg, "\n")
	}
	fmt.Fprintf(w, "gridstudy %s: %s\n", name, msg)
	return 1
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func printUsage(w io.Writer) {
	fmt.Fprintf(w, "gridstudy runs parameter grid studies on SLURM clusters and workstations.\n\nUsage:\n  gridstudy <command> [arguments]\n\nCommands:\n")
	cmds := commands()
	sort.Slice(cmds, func(i, j int) bool { return cmds[i].name < cmds[j].name })
	for _, c := range cmds {
		fmt.Fprintf(w, "  %-9s %s\n", c.name, c.short)
	}
	fmt.Fprintf(w, "\nRun 'gridstudy <command> --help' for a command's flags.\n%s\n", exitCodes)
}

func printCommandHelp(w io.Writer, c *command, fs *pflag.FlagSet) {
	fmt.Fprintf(w, "Usage: gridstudy %s %s\n\n%s\n\nFlags:\n%s\n%s\n", c.name, c.usage, strings.TrimSpace(c.long), fs.FlagUsages(), exitCodes)
}
