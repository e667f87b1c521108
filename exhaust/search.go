package exhaust

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/routefuzz/routefuzz/check"
	"github.com/routefuzz/routefuzz/model"
	"github.com/routefuzz/routefuzz/sut"
)

// Prune says which sequences the search does not extend. Every prune
// rests on an assumption about the stack; see the package documentation.
type Prune uint8

const (
	// PruneOff extends every sequence the stack agreed on.
	PruneOff Prune = iota
	// PruneRepeats does not extend a sequence whose last op repeats the
	// op before it exactly and fails in the model (which then changes
	// nothing), when the stack gave the same result and tables.
	PruneRepeats
	// PruneFailures does not extend a sequence whose last op fails in
	// the model, when the stack gave the same result and tables.
	PruneFailures
)

var pruneNames = []string{"off", "repeats", "failures"}

func (p Prune) String() string {
	if int(p) < len(pruneNames) {
		return pruneNames[p]
	}
	return fmt.Sprintf("Prune(%d)", p)
}

// ParsePrune parses "off", "repeats" or "failures".
func ParsePrune(s string) (Prune, error) {
	for i, n := range pruneNames {
		if n == s {
			return Prune(i), nil
		}
	}
	return 0, fmt.Errorf("unknown prune %q (want %s)", s, strings.Join(pruneNames, ", "))
}

// Options configures a search.
type Options struct {
	// Depth is the longest sequence tried.
	Depth int
	// Symmetry runs one sequence of each class of sequences equal up to
	// adapter and address renaming (see AddressClasses).
	Symmetry bool
	// Prune is which agreeing sequences are not extended.
	Prune Prune
	// Confirm is how many more times a divergence is replayed from a
	// fresh reset before it is reported; each must fail the same way
	// (check.Confirm). Zero means 2.
	Confirm int
	// FinishLevel runs every sequence of the length at which the first
	// divergence appeared, to count how many diverge (Level.Diverged).
	FinishLevel bool
	// Progress, if not nil, is called after each length is done.
	Progress func(Level)
}

// Level counts the sequences of one length.
type Level struct {
	Length int
	// Space is the number of sequences of this length over the ops,
	// |ops|^Length, whatever the search did with them.
	Space float64
	// Run were run on the stack and the model, from a fresh reset.
	Run int
	// Symmetric were not run: a renaming of another sequence that was
	// (or would have been, had its prefix not been pruned).
	Symmetric int
	// Pruned were not run: the extensions of a pruned sequence of the
	// length before.
	Pruned int
	// Diverged is how many of Run diverged at their last op.
	Diverged int
	// Represented is how many sequences the diverging ones stand for:
	// the sum of the sizes of their classes under renaming (Diverged
	// without symmetry). A search without symmetry that finds a different
	// count of the same length shows the stack does not treat renamed
	// sequences alike.
	Represented int
	// Elapsed is the time this length took.
	Elapsed time.Duration
}

// Result is what a search found.
type Result struct {
	SUT      string
	Universe Universe
	Options  Options
	Ops      []model.Op // the universe's ops the stack takes
	Levels   []Level    // one per length tried, from 1
	// Divergence is the first divergence found at the shortest length
	// that has one; nil when no sequence up to Depth diverged.
	Divergence *check.Divergence
	// Flaky is set, and Divergence is the first one seen, when a
	// divergence did not fail the same way when replayed.
	Flaky bool
	// Steps counts the ops applied, replays included.
	Steps   int
	Elapsed time.Duration
}

// Run, Symmetric and Pruned return the totals over the levels.
func (r *Result) Run() int       { return r.sum(func(l Level) int { return l.Run }) }
func (r *Result) Symmetric() int { return r.sum(func(l Level) int { return l.Symmetric }) }
func (r *Result) Pruned() int    { return r.sum(func(l Level) int { return l.Pruned }) }

func (r *Result) sum(f func(Level) int) int {
	n := 0
	for _, l := range r.Levels {
		n += f(l)
	}
	return n
}

// Proved returns what the search proved, as a sentence: that no sequence
// of the universe up to the depth reached diverges, or that the
// divergence found is of the shortest length there is, with the
// assumptions about the stack the reductions add.
func (r *Result) Proved() string {
	var s string
	switch {
	case r.Flaky:
		return "nothing: a divergence did not reproduce"
	case r.Divergence != nil:
		n := len(r.Divergence.Ops)
		s = fmt.Sprintf("no sequence of fewer than %d ops of this universe diverges on %s; this one of %d does", n, r.SUT, n)
	default:
		s = fmt.Sprintf("no sequence of at most %d ops of this universe diverges on %s", len(r.Levels), r.SUT)
	}
	return s + r.Assumptions()
}

// Assumptions returns the assumptions about the stack the reductions
// used, as a clause ("" when none).
func (r *Result) Assumptions() string {
	var as []string
	if r.Options.Symmetry {
		as = append(as, "it treats the adapters alike and the addresses of each class alike (symmetry)")
	}
	switch r.Options.Prune {
	case PruneRepeats:
		as = append(as, "an op repeated at once that fails, as in the model, leaves its state as it was (prune repeats)")
	case PruneFailures:
		as = append(as, "an op that fails, as in the model, leaves its state as it was (prune failures)")
	}
	if len(as) == 0 {
		return " (deterministic replay only; no assumption)"
	}
	return ", assuming the stack is deterministic and " + strings.Join(as, ", and ")
}

// node is a sequence the search extends: positions in the ops.
type node []int

// Search runs every sequence of u's ops, of length 1, then 2, up to
// o.Depth, on stack and the model side by side from a fresh reset each,
// comparing after every op (check.Replay), and stops after the first
// length at which one diverges: the divergence it returns is of the
// shortest length there is in u (under the assumptions of o's
// reductions). name names the stack in reports.
//
// It returns an error when the stack failed outside its semantics; a
// crash or hang of the stack is a divergence.
func Search(name string, stack sut.Stack, u Universe, o Options) (*Result, error) {
	if o.Depth < 1 {
		return nil, fmt.Errorf("depth must be at least 1, not %d", o.Depth)
	}
	if err := u.Config.Validate(); err != nil {
		return nil, fmt.Errorf("bad universe: %w", err)
	}
	if o.Confirm == 0 {
		o.Confirm = 2
	}
	start := time.Now()
	ops := u.Ops(sut.LimitsOf(stack))
	res := &Result{SUT: name, Universe: u, Options: o, Ops: ops}
	defer func() { res.Elapsed = time.Since(start) }()
	if len(ops) == 0 {
		return res, errors.New("the universe has no op the stack takes")
	}
	var perms [][]int
	if o.Symmetry {
		perms = symmetries(u, ops)
	}
	stats := new(check.Stats)
	defer func() { res.Steps = stats.Steps }()

	frontier := []node{{}}
	space := 1.0
	prunedNodes := 0 // agreeing sequences of the length before not extended
	for length := 1; length <= o.Depth && len(frontier) > 0; length++ {
		t0 := time.Now()
		space *= float64(len(ops))
		lv := Level{Length: length, Space: space, Pruned: prunedNodes * len(ops)}
		done := func() {
			lv.Elapsed = time.Since(t0)
			res.Levels = append(res.Levels, lv)
			if o.Progress != nil {
				o.Progress(lv)
			}
		}
		var next []node
		prunedNodes = 0
		for _, parent := range frontier {
			for i := range ops {
				seq := append(parent[:len(parent):len(parent)], i)
				if !canonical(seq, perms) {
					lv.Symmetric++
					continue
				}
				d, prune, err := runSeq(name, stack, u.Config, ops, seq, o.Prune, stats)
				lv.Run++
				if err != nil {
					done()
					return res, err
				}
				if d == nil {
					if prune {
						prunedNodes++
					} else {
						next = append(next, seq)
					}
					continue
				}
				if len(d.Ops) < length {
					// The stack differs right after a reset (a divergence
					// of no ops), or a prefix that agreed before
					// diverged now (flaky).
					res.Divergence, res.Flaky = d, len(d.Ops) > 0
					done()
					return res, nil
				}
				lv.Diverged++
				lv.Represented += orbitSize(seq, perms)
				if res.Divergence == nil {
					res.Divergence = d
					ok, err := check.Confirm(stack, d, o.Confirm, stats)
					if err != nil || !ok {
						res.Flaky = err == nil
						done()
						return res, err
					}
				}
				if !o.FinishLevel {
					done()
					return res, nil
				}
			}
		}
		done()
		if res.Divergence != nil {
			return res, nil
		}
		frontier = next
	}
	return res, nil
}

// runSeq replays the ops at seq from a fresh reset, comparing after every
// op, and says whether the search may leave the sequence unextended under
// prune (only when it agreed).
func runSeq(name string, stack sut.Stack, cfg model.Config, ops []model.Op, seq []int, prune Prune, stats *check.Stats) (*check.Divergence, bool, error) {
	r, d, err := check.Start(name, stack, cfg, stats)
	if d != nil || err != nil {
		return d, false, err
	}
	var failed bool
	for _, i := range seq {
		op := ops[i]
		failed = r.Model().Check(op) != nil
		if d, err := r.Step(op); d != nil || err != nil {
			return d, false, err
		}
	}
	n := len(seq)
	switch prune {
	case PruneRepeats:
		return nil, failed && n >= 2 && seq[n-1] == seq[n-2], nil
	case PruneFailures:
		return nil, failed, nil
	}
	return nil, false, nil
}

// Shorter searches the universe of d's ops (FromOps) for a divergence
// shorter than d, up to one op fewer: after a shrink, it confirms that no
// shorter order of the same addresses, kinds and values diverges (the
// result has no Divergence), or finds one. o.Depth is ignored.
func Shorter(stack sut.Stack, d *check.Divergence, o Options) (*Result, error) {
	o.Depth = len(d.Ops) - 1
	u := FromOps(d.Config, d.Ops)
	if o.Depth < 1 {
		return &Result{SUT: d.SUT, Universe: u, Options: o}, nil
	}
	return Search(d.SUT, stack, u, o)
}
