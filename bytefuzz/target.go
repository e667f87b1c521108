package bytefuzz

import (
	"encoding/hex"
	"fmt"
	"os"
	"sync"

	"github.com/routefuzz/routefuzz/check"
	"github.com/routefuzz/routefuzz/corpus"
	"github.com/routefuzz/routefuzz/model"
	"github.com/routefuzz/routefuzz/stacks"
	"github.com/routefuzz/routefuzz/sut"
)

// FoundEnv names the environment variable that, when set to a directory,
// makes a target save every divergence it fails on there as a corpus case
// (the shortest so far, once confirmed), before it fails.
const FoundEnv = "ROUTEFUZZ_FOUND"

// Target is a stack driven from bytes: Check decodes an input and runs it
// on the model and the stack side by side.
type Target struct {
	// Name names the stack in reports and cases: a name of the stacks
	// registry ("legacy", "exec").
	Name   string
	Stack  sut.Stack
	Limits sut.Limits
	// Exclude, if not nil, drops the ops it returns true for (it sees the
	// model before the op), to fuzz past known divergences
	// (props.Exclusions).
	Exclude func(*model.State, model.Op) bool
	// Confirmations is how many times a divergence is replayed from a
	// fresh reset, failing the same way each time, before it counts
	// (props.Confirmations); 1 if 0.
	Confirmations int
	// HangConfirmations replaces Confirmations for a hang, which costs
	// the stack's whole timeout each time (props.HangConfirmations).
	HangConfirmations int
	// Engine names what runs the target, for the saved case's header.
	Engine string

	mu   sync.Mutex
	best int // ops of the shortest divergence saved, 0 before any
}

var (
	sharedMu sync.Mutex
	shared   = map[string]*Target{}
)

// Shared returns the process's target for the named stack, opening the
// stack the first time and calling configure (if not nil) on the new
// target. A libFuzzer binary built by go-118-fuzz-build calls the fuzz
// target (FuzzX(f)) once per input, so the stack (an external program, a
// network namespace) must outlive it; Close ends it. (This package does
// not import props, which alone may know rapid: the caller sets
// Confirmations and Exclude from it in configure.)
func Shared(name string, o stacks.Options, configure func(*Target) error) (*Target, error) {
	sharedMu.Lock()
	defer sharedMu.Unlock()
	if t := shared[name]; t != nil {
		return t, nil
	}
	stack, err := stacks.Open(name, o)
	if err != nil {
		return nil, err
	}
	t := &Target{Name: name, Stack: stack, Limits: sut.LimitsOf(stack), Engine: Engine}
	if configure != nil {
		if err := configure(t); err != nil {
			stack.Close()
			return nil, err
		}
	}
	shared[name] = t
	return t, nil
}

// Close closes the stack and forgets the shared target.
func (t *Target) Close() error {
	sharedMu.Lock()
	if shared[t.Name] == t {
		delete(shared, t.Name)
	}
	sharedMu.Unlock()
	return t.Stack.Close()
}

// Check decodes data (see the package documentation), runs it on the model
// and the stack, and returns the divergence, as check reports it, when
// they differ in a way that reproduces from a fresh reset
// (Confirmations times). It saves the case to $ROUTEFUZZ_FOUND
// first (a divergence that does not reproduce is saved as a flaky case,
// and not returned). An error is a harness failure, never a divergence.
func (t *Target) Check(data []byte) (*check.Divergence, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	cfg, ops, err := Decode(data, t.Limits)
	if err != nil {
		return nil, err
	}
	d, err := t.run(cfg, ops)
	if d == nil || err != nil {
		return nil, err
	}
	n := t.Confirmations
	if d.Failed == "hang" && t.HangConfirmations > 0 {
		n = t.HangConfirmations
	}
	ok, err := check.Confirm(t.Stack, d, max(n, 1), nil)
	if err != nil {
		return nil, err
	}
	kase := corpus.FromDivergence(d, t.comment("Found by", data))
	if !ok {
		kase = corpus.FromFlaky(d, t.comment("Seen by", data)+"\n# It did not reproduce when replayed.")
	} else if t.best != 0 && len(d.Ops) >= t.best {
		return d, nil
	} else {
		t.best = len(d.Ops)
	}
	if dir := os.Getenv(FoundEnv); dir != "" {
		if path, err := corpus.Save(dir, kase); err != nil {
			// Nothing is lost: the report goes to the engine's output.
			fmt.Fprintf(os.Stderr, "routefuzz: saving a found divergence to %s=%s: %v\n", FoundEnv, dir, err)
		} else {
			fmt.Fprintf(os.Stderr, "routefuzz: saved %s\n", path)
		}
	}
	if !ok {
		return nil, nil
	}
	return d, nil
}

// run applies ops from a fresh reset to cfg, less those Exclude drops.
func (t *Target) run(cfg model.Config, ops []model.Op) (*check.Divergence, error) {
	r, d, err := check.Start(t.Name, t.Stack, cfg, nil)
	if d != nil || err != nil {
		return d, err
	}
	for _, op := range ops {
		if t.Exclude != nil && t.Exclude(r.Model(), op) {
			continue
		}
		if d, err := r.Step(op); d != nil || err != nil {
			return d, err
		}
	}
	return nil, nil
}

// Replay runs data's ops on the target and returns the first divergence,
// unconfirmed and unsaved: what the decode command records.
func (t *Target) Replay(data []byte) (model.Config, []model.Op, *check.Divergence, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	cfg, ops, err := Decode(data, t.Limits)
	if err != nil {
		return cfg, ops, nil, err
	}
	d, err := t.run(cfg, ops)
	return cfg, ops, d, err
}

// comment is a saved case's first header lines: what found it and the
// input, so that the case can be traced to the engine's file.
func (t *Target) comment(verb string, data []byte) string {
	s := fmt.Sprintf("# %s %s (bytefuzz target Fuzz%s, encoding %d); not yet minimized.", verb, t.Engine, title(t.Name), Encoding)
	if len(data) <= 256 {
		s += "\n# input: " + hex.EncodeToString(data)
	}
	return s
}

// Encoding is the version of the byte encoding the package documents:
// 2 since the route kinds (see the package documentation).
const Encoding = 2

func title(s string) string {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return s
	}
	return string(s[0]-'a'+'A') + s[1:]
}
