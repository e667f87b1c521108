package stacks

import (
	"fmt"
	"os"

	"github.com/routefuzz/routefuzz/sut"
	"github.com/routefuzz/routefuzz/sut/process"
)

// TraceEnv names the environment variable that, when set to a file name,
// makes the "exec" stack append every line it exchanges with its program
// to that file (see process.Options.Trace).
const TraceEnv = "ROUTEFUZZ_EXEC_TRACE"

func init() {
	Register("exec", "external program speaking PROTOCOL.md (set -exec 'COMMAND LINE')", func(o Options) (sut.Stack, error) {
		if o.Exec == "" {
			return nil, fmt.Errorf("no command line: the exec stack runs the program given by -exec (see PROTOCOL.md)")
		}
		po := process.Options{Timeout: o.Timeout, Dir: o.Dir,
			MaxAnswerLines: o.MaxAnswerLines, MaxAnswerBytes: o.MaxAnswerBytes, MaxLineBytes: o.MaxLineBytes}
		var trace *os.File
		if name := os.Getenv(TraceEnv); name != "" {
			f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", TraceEnv, err)
			}
			trace, po.Trace = f, f
		}
		s, err := process.Start(o.Exec, po)
		if err != nil {
			if trace != nil {
				trace.Close()
			}
			return nil, err
		}
		if trace == nil {
			return s, nil
		}
		return &traced{s, trace}, nil
	})
}

// traced closes the trace file with the stack.
type traced struct {
	*process.Stack
	f *os.File
}

func (t *traced) Close() error {
	err := t.Stack.Close()
	t.f.Close()
	return err
}

// External reports whether the named stack is the user's own program
// rather than one routefuzz ships. A divergence found on the user's stack
// is a bug to fix, so a corpus case records it as a case the stack must
// agree on, not as one it must keep diverging on.
func External(name string) bool { return name == "exec" }
