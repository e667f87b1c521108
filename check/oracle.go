package check

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/routefuzz/routefuzz/model"
	"github.com/routefuzz/routefuzz/sut"
)

// An Oracle judges a run by something other than the model: relations
// every correct stack satisfies (package relations), say. It sees the run
// after the reset and after every op, and returns a *Divergence whose
// Relation names what failed. The engine knows nothing of what it checks.
type Oracle interface {
	// Judge is called after the reset (r.Ops() empty) and after every op
	// of a run on a Judged stack; an error is a harness failure.
	Judge(r *Run) (*Divergence, error)
}

// Judged is a stack whose runs an Oracle judges: a run started on it
// (Start, Replay, Confirm, and so the rapid property, Hunt, Polish)
// applies every op to the model and the stack, and calls the Oracle after
// each. With Model set the stack is also compared with the model, first;
// without it the model only runs alongside, for the generator to draw
// present addresses, for exclusions, and for the probes of lookups, and is
// never compared.
type Judged struct {
	sut.Stack
	Oracle Oracle
	Model  bool
}

// Limits implements sut.Limiter: the stack's.
func (j *Judged) Limits() sut.Limits { return sut.LimitsOf(j.Stack) }

// Lag implements sut.Lagger: the stack's.
func (j *Judged) Lag() time.Duration { return lagOf(j.Stack) }

// Name returns the name the run reports its stack by.
func (r *Run) Name() string { return r.name }

// Stack returns the stack under test (inside a Judged or a Pair).
func (r *Run) Stack() sut.Stack { return r.stack }

// Limits returns the stack's limits.
func (r *Run) Limits() sut.Limits { return r.limits }

// Results returns the stack's result of every op applied so far.
func (r *Run) Results() []model.Result { return r.results }

// Counts returns the run's work counts.
func (r *Run) Counts() *Stats { return r.stats }

// Read reads observable o from s, with the probes (of lookups) that the
// model state m derives, as a stack with limits l shows it: the value a
// run compares, read through the observable's own Def.
func Read(o Observable, s sut.Stack, m *model.State, l sut.Limits) (any, error) {
	return o.stackValue(s, m, l)
}

func (d *Def[T]) stackValue(s sut.Stack, m *model.State, l sut.Limits) (any, error) {
	return d.Stack(s, m, l)
}

// A Side is one of the two runs of a relation that failed: its name (the
// column it heads), its ops from a fresh reset, and the stack's result of
// each.
type Side struct {
	Name    string
	Ops     []model.Op
	Results []model.Result
}

// RelationAspect is set in the Aspects of a divergence of a relation
// (Divergence.Relation), so that shrinking keeps a relation's failure
// apart from a divergence from the model.
const RelationAspect Aspect = 1 << 13

// relationReport is Report for a relation that failed: the relation, the
// ops of the run, then both runs side by side, their ops and every
// observable that differs.
func (d *Divergence) relationReport() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s breaks relation %s after op %d (%s)\n", d.SUT, d.Relation, len(d.Ops), d.Config)
	if d.RelationDoc != "" {
		fmt.Fprintf(&b, "  %s\n", d.RelationDoc)
	}
	b.WriteString(FormatOps(d.Ops))
	if one := d.Sides[0]; !slices.Equal(one.Ops, d.Ops) || !slices.Equal(d.Sides[1].Ops, d.Ops) {
		b.WriteString(sideBySideOps(d.Sides))
	} // else a relation of one run: the ops above are both sides'
	if d.Detail != "" {
		fmt.Fprintf(&b, "%s\n", strings.TrimRight(d.Detail, "\n"))
	}
	for _, o := range d.Observed {
		if !o.Off && (o.Differs() || o.Of.always()) {
			b.WriteString(o.Of.text(d.Sides[0].Name, d.Sides[1].Name, o.Want, o.Got))
		}
	}
	return b.String()
}

// sideBySideOps shows the two runs' ops in two columns, each with the
// stack's result; a row where the two differ is marked '!'.
func sideBySideOps(sides [2]Side) string {
	cell := func(s Side, i int) string {
		if i >= len(s.Ops) {
			return ""
		}
		c := fmt.Sprintf("%3d  %s", i+1, s.Ops[i])
		if i < len(s.Results) && s.Results[i] != model.OK {
			c += " (" + s.Results[i].String() + ")"
		}
		return c
	}
	n := max(len(sides[0].Ops), len(sides[1].Ops))
	width := len(sides[0].Name)
	for i := range n {
		width = max(width, len(cell(sides[0], i)))
	}
	var b strings.Builder
	fmt.Fprintf(&b, "runs (each from a fresh reset; ! where they differ):\n")
	fmt.Fprintf(&b, "    %-*s | %s\n", width, sides[0].Name, sides[1].Name)
	for i := range n {
		m := ' '
		if i >= len(sides[0].Ops) || i >= len(sides[1].Ops) || sides[0].Ops[i] != sides[1].Ops[i] {
			m = '!'
		}
		fmt.Fprintf(&b, "  %c %-*s | %s\n", m, width, cell(sides[0], i), cell(sides[1], i))
	}
	if n == 0 {
		fmt.Fprintf(&b, "    %-*s | %s\n", width, "(no ops)", "(no ops)")
	}
	return b.String()
}

// sameSides reports whether two relation failures ran the same two runs.
func sameSides(a, b [2]Side) bool {
	for i := range a {
		if a[i].Name != b[i].Name || !slices.Equal(a[i].Ops, b[i].Ops) || !slices.Equal(a[i].Results, b[i].Results) {
			return false
		}
	}
	return true
}

// LookupAll asks s, a sut.Looker, for the route lookup of every probe, in
// order, as the Lookups observable reads it: for an Oracle that probes
// destinations of its own.
func LookupAll(s sut.Stack, probes []netip.Addr) ([]model.LookupResult, error) {
	return readLookups(s, probes)
}
