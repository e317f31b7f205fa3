// Command lincheck checks a client history of the Paxos replica set's key-value store or
// locks for linearizability with Porcupine (github.com/anishathalye/porcupine).
//
//	lincheck [-timeout 30s] [-visualize out.html] history.json
//
// The input format, the models and the exit codes are described in README.md.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/anishathalye/porcupine"
)

// Exit codes.
const (
	exitLinearizable    = 0
	exitNotLinearizable = 1
	exitUndecided       = 2
	exitBadInput        = 3
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

const usage = `usage: lincheck [-timeout 30s] [-visualize out.html] history.json

Checks a JSON history (use - for standard input) for linearizability with Porcupine.
Exit codes: 0 linearizable, 1 not linearizable, 2 undecided within the timeout,
3 bad usage or bad input (nothing was checked).

`

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	flags := flag.NewFlagSet("lincheck", flag.ContinueOnError)
	flags.SetOutput(stderr)
	timeout := flags.Duration("timeout", 30*time.Second, "give up (exit 2) after this long; 0 means no limit")
	visualize := flags.String("visualize", "", "write Porcupine's HTML visualization of the history to this file")
	flags.Usage = func() {
		fmt.Fprint(stderr, usage)
		flags.PrintDefaults()
	}
	if err := flags.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitLinearizable
		}
		return exitBadInput
	}
	fail := func(format string, args ...any) int {
		fmt.Fprintf(stderr, "lincheck: "+format+"\n", args...)
		return exitBadInput
	}
	if flags.NArg() != 1 {
		flags.Usage()
		return fail("expected exactly one history file (or - for standard input) after the flags, got %d arguments", flags.NArg())
	}
	if *timeout < 0 {
		return fail("-timeout must not be negative, got %v", *timeout)
	}

	name := flags.Arg(0)
	var in io.Reader = stdin
	if name == "-" {
		name = "stdin"
	} else {
		f, err := os.Open(name)
		if err != nil {
			return fail("%v", err)
		}
		defer f.Close()
		in = f
	}
	h, err := parseHistory(in)
	if err != nil {
		return fail("%s: %v", name, err)
	}
	var vis *os.File
	if *visualize != "" {
		if vis, err = os.Create(*visualize); err != nil {
			return fail("-visualize: %v", err)
		}
		defer vis.Close()
	}

	r := checkHistory(h, *timeout)

	if vis != nil {
		if err := porcupine.Visualize(r.model, r.info, vis); err != nil {
			fmt.Fprintf(stderr, "lincheck: -visualize: %v\n", err)
		} else if err := vis.Close(); err != nil {
			fmt.Fprintf(stderr, "lincheck: -visualize: %v\n", err)
		}
	}
	return report(stdout, name, h, r, *timeout, *visualize)
}

// report prints the verdict and returns the exit code.
func report(w io.Writer, name string, h *history, r *checkResult, timeout time.Duration, visualize string) int {
	unknown := 0
	for _, op := range h.ops {
		if op.unknown {
			unknown++
		}
	}
	summary := fmt.Sprintf("%s: %s model, %d operations", name, h.model.name, len(h.ops))
	if unknown > 0 {
		summary += fmt.Sprintf(" (%d with unknown outcome)", unknown)
	}
	summary += fmt.Sprintf(", %d %s", len(r.partitions), plural(len(r.partitions), h.model.noun))

	switch r.verdict() {
	case porcupine.Ok:
		fmt.Fprintf(w, "%s: linearizable\n", summary)
		return exitLinearizable
	case porcupine.Unknown:
		fmt.Fprintf(w, "%s: UNDECIDED: no verdict within %v (raise -timeout); %s\n", summary, timeout, undecided(h, r))
		return exitUndecided
	}

	fmt.Fprintf(w, "%s: NOT linearizable\n", summary)
	if r.result == porcupine.Unknown {
		fmt.Fprintf(w, "the per-%s check did not finish within %v; %s\n", h.model.noun, timeout, undecided(h, r))
	}
	if r.result == porcupine.Illegal {
		for _, p := range r.partitions {
			if p.linearized {
				continue
			}
			reason := "no linearization exists"
			if r.timedOut {
				reason = "no linearization found (the check timed out, so this may be undecided rather than illegal)"
			}
			fmt.Fprintf(w, "%s %q (%d operations): %s\n", h.model.noun, p.name, len(p.ops), reason)
			in := map[int]bool{}
			for _, op := range p.longest {
				in[op.Metadata.(opMeta).op.index] = true
			}
			tail := p.longest
			if len(tail) > 5 {
				tail = tail[len(tail)-5:]
			}
			fmt.Fprintf(w, "  longest linearizable sequence found covers %d of %d operations", len(p.longest), len(p.ops))
			if len(tail) > 0 {
				fmt.Fprintf(w, "; it ends with:\n%s", listOps(r.model, tail, "    "))
			} else {
				fmt.Fprintln(w)
			}
			var left []porcupine.Operation
			for _, op := range p.ops {
				if !in[op.Metadata.(opMeta).op.index] {
					left = append(left, op)
				}
			}
			fmt.Fprintf(w, "  it cannot be extended (the model or real-time order rules out every next step); operations left out:\n%s", listOps(r.model, left, "    "))
		}
	}
	for i, v := range r.violations {
		if i == maxListed {
			fmt.Fprintf(w, "... and %d more revision order violations\n", len(r.violations)-maxListed)
			break
		}
		fmt.Fprintf(w, "revision order: %s\n", v.msg)
	}
	if visualize != "" {
		fmt.Fprintf(w, "visualization: %s\n", visualize)
	}
	return exitNotLinearizable
}

// undecided names the partitions without a verdict: `undecided keys: "a", "b"`.
func undecided(h *history, r *checkResult) string {
	var names []string
	for _, p := range r.partitions {
		if !p.linearized {
			names = append(names, fmt.Sprintf("%q", p.name))
		}
	}
	return fmt.Sprintf("undecided %s: %s", plural(len(names), h.model.noun), strings.Join(names, ", "))
}

func plural(n int, noun string) string {
	if n == 1 {
		return noun
	}
	return noun + "s"
}
