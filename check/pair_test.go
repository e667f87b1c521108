package check

import (
	"errors"
	"strings"
	"testing"

	"github.com/routefuzz/routefuzz/model"
	"github.com/routefuzz/routefuzz/sut"
	"github.com/routefuzz/routefuzz/sut/fixed"
	"github.com/routefuzz/routefuzz/sut/legacy"
)

func pair(t *testing.T, name string, stack sut.Stack, refName string, ref sut.Stack) *Pair {
	t.Helper()
	p, err := Vs(name, stack, refName, ref)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// A stack compared with another stack: the report names both, with the
// reference's column where the model's was. Pin it exactly.
func TestReportPair(t *testing.T) {
	p := pair(t, "legacy", legacy.New(), "fixed", fixed.New())
	d, err := Replay("legacy", p, model.Config{Adapters: []string{"a0", "a1"}}, kb, nil)
	if err != nil || d == nil {
		t.Fatalf("legacy does not diverge from fixed on the KB case: %v", err)
	}
	want := `legacy diverges from fixed in routes+lookups after op 3 (adapters=a0,a1 promote=off)
    1  add a0 10.0.0.1/24
    2  add a1 10.0.0.2/24
>   3  del a1 10.0.0.2/24
result of op 3: fixed ok, legacy ok
routes (- missing from legacy, + extra in legacy):
    fixed                                       | legacy
  - 10.0.0.0/24 dev a0 src 10.0.0.1             | 
  +                                             | 10.0.0.0/24 dev a1 src 10.0.0.2
    local 10.0.0.1/32 dev a0 src 10.0.0.1       | local 10.0.0.1/32 dev a0 src 10.0.0.1
  - broadcast 10.0.0.255/32 dev a0 src 10.0.0.1 | 
  +                                             | broadcast 10.0.0.255/32 dev a1 src 10.0.0.2
lookups (3 of 6 probes answered differently):
    fixed                                    | legacy
  ! 10.0.0.0 dev a0 src 10.0.0.1             | 10.0.0.0 dev a1 src 10.0.0.2
  ! 10.0.0.2 dev a0 src 10.0.0.1             | 10.0.0.2 dev a1 src 10.0.0.2
  ! 10.0.0.255 broadcast dev a0 src 10.0.0.1 | 10.0.0.255 broadcast dev a1 src 10.0.0.2
`
	if got := d.Report(); got != want {
		t.Errorf("report:\n%s\nwant:\n%s", got, want)
	}
	if d.SUT != "legacy" || d.Ref != "fixed" {
		t.Errorf("SUT, Ref = %q, %q; want legacy, fixed", d.SUT, d.Ref)
	}
	// The same order, the other way round: fixed diverges from legacy.
	p = pair(t, "fixed", fixed.New(), "legacy", legacy.New())
	e, err := Replay("fixed", p, model.Config{Adapters: []string{"a0", "a1"}}, kb, nil)
	if err != nil || e == nil || !strings.HasPrefix(e.Report(), "fixed diverges from legacy in routes+lookups after op 3") {
		t.Fatalf("fixed vs legacy: %v\n%v", err, e)
	}
	if d.Same(e) {
		t.Error("Same: legacy-vs-fixed and fixed-vs-legacy are the same failure")
	}
	// Confirm replays the pair.
	if ok, err := Confirm(pair(t, "legacy", legacy.New(), "fixed", fixed.New()), d, 3, nil); !ok || err != nil {
		t.Errorf("Confirm = %v, %v", ok, err)
	}
	// Against the model, the same stack fails the same way, but it is
	// not the same failure: the reference differs.
	m, _ := Replay("legacy", legacy.New(), model.Config{Adapters: []string{"a0", "a1"}}, kb, nil)
	if m == nil || m.Same(d) {
		t.Errorf("legacy against the model is the same failure as against fixed")
	}
}

// Two instances of one stack agree on every order.
func TestPairOfFixedAgrees(t *testing.T) {
	p := pair(t, "fixed", fixed.New(), "fixed", fixed.New())
	for _, o := range [][]model.Op{kb, ops("add a0 10.0.0.1/24", "add a0 10.0.0.2/24", "del a0 10.0.0.1/24", "down a1", "add a1 2001:db8::1/64 metric 5", "up a1")} {
		if d, err := Replay("fixed", p, model.Config{Adapters: []string{"a0", "a1"}}, o, nil); d != nil || err != nil {
			t.Errorf("fixed vs fixed: %v %v", d, err)
		}
	}
}

// flaw is a stack with one seeded bug: a delete of 10.0.0.2 answers
// notfound although it deleted the address (or, with crash, crashes).
type flaw struct {
	sut.Stack
	crash bool
}

func (f flaw) Apply(op model.Op) error {
	err := f.Stack.Apply(op)
	if op.Kind == model.Del && op.Prefix.Addr().String() == "10.0.0.2" {
		if f.crash {
			return errors.Join(sut.ErrCrash, errors.New("flaw: died"))
		}
		return model.ErrNotFound
	}
	return err
}

func TestPairSidesFail(t *testing.T) {
	cfg := model.Config{Adapters: []string{"a0", "a1"}}
	// The stack's wrong result.
	d, err := Replay("flawed", pair(t, "flawed", flaw{Stack: fixed.New()}, "fixed", fixed.New()), cfg, kb, nil)
	if err != nil || d == nil || d.Aspects() != ResultAspect || !strings.Contains(d.Report(), "result of op 3: fixed ok, flawed notfound  <- differs") {
		t.Fatalf("flawed vs fixed: %v\n%v", err, d)
	}
	// The reference's crash names the reference.
	d, err = Replay("fixed", pair(t, "fixed", fixed.New(), "flawed", flaw{Stack: fixed.New(), crash: true}), cfg, kb, nil)
	if err != nil || d == nil || d.Failed != "crash" || d.FailedBy != "flawed" || !strings.HasPrefix(d.Report(), "flawed (the reference) crashed on op 3") {
		t.Fatalf("fixed vs crashing flawed: %v\n%v", err, d)
	}
	// The stack's crash names the stack.
	d, err = Replay("flawed", pair(t, "flawed", flaw{Stack: fixed.New(), crash: true}, "fixed", fixed.New()), cfg, kb, nil)
	if err != nil || d == nil || d.Failed != "crash" || d.FailedBy != "" || !strings.HasPrefix(d.Report(), "flawed crashed on op 3") {
		t.Fatalf("crashing flawed vs fixed: %v\n%v", err, d)
	}
}

type limited struct {
	sut.Stack
	l sut.Limits
}

func (s limited) Limits() sut.Limits { return s.l }

func TestIntersect(t *testing.T) {
	v6 := sut.Limits{IPv6: true, Ops: []model.OpKind{model.Add, model.Del}, Promote: []bool{false}, Attrs: []string{"metrics"}, Kinds: []model.RouteKind{model.Local}}
	p := pair(t, "a", limited{fixed.New(), v6}, "b", fixed.New())
	l := p.Limits()
	if l.IPv4 || !l.IPv6 || len(l.Ops) != 2 || len(l.Promote) != 1 || len(l.Attrs) != 1 || len(l.Kinds) != 1 {
		t.Errorf("limits of a stack with v6 paired with fixed: %+v", l)
	}
	v4 := sut.Limits{IPv4: true, Promote: []bool{true}}
	if _, err := Vs("a", limited{fixed.New(), v6}, "b", limited{fixed.New(), v4}); err == nil ||
		!strings.Contains(err.Error(), "no address family in common") || !strings.Contains(err.Error(), "no promote setting in common") {
		t.Errorf("Vs of disjoint stacks: %v", err)
	}
}

// broken fails outside its semantics: a harness error, never a divergence.
type broken struct{ sut.Stack }

func (broken) Apply(model.Op) error         { return errors.New("netlink: connection refused") }
func (broken) Reset(cfg model.Config) error { return errors.New("cannot create namespace") }

// A harness error names the side it came from.
func TestPairHarnessErrors(t *testing.T) {
	cfg := model.Config{Adapters: []string{"a0", "a1"}}
	_, err := Replay("fixed", pair(t, "fixed", fixed.New(), "broken", broken{fixed.New()}), cfg, kb, nil)
	if err == nil || !strings.Contains(err.Error(), "fixed-vs-broken: reset to adapters=a0,a1 promote=off: broken (the reference): cannot create namespace") {
		t.Errorf("reset of a broken reference: %v", err)
	}
	_, err = Replay("broken", pair(t, "broken", broken{fixed.New()}, "fixed", fixed.New()), cfg, kb, nil)
	if err == nil || !strings.Contains(err.Error(), "broken-vs-fixed: reset to adapters=a0,a1 promote=off: broken: cannot create namespace") {
		t.Errorf("reset of a broken stack: %v", err)
	}
	d, err := Replay("fixed", pair(t, "fixed", fixed.New(), "apply", applyBroken{fixed.New()}), cfg, kb, nil)
	if d != nil || err == nil || !strings.Contains(err.Error(), "apply (the reference): op 1 (add a0 10.0.0.1/24): netlink: connection refused") {
		t.Errorf("apply of a broken reference: %v, %v", d, err)
	}
	d, err = Replay("apply", pair(t, "apply", applyBroken{fixed.New()}, "fixed", fixed.New()), cfg, kb, nil)
	if d != nil || err == nil || !strings.Contains(err.Error(), "apply: op 1 (add a0 10.0.0.1/24): netlink: connection refused") || strings.Contains(err.Error(), "reference") {
		t.Errorf("apply of a broken stack: %v, %v", d, err)
	}
}

type applyBroken struct{ sut.Stack }

func (applyBroken) Apply(model.Op) error { return errors.New("netlink: connection refused") }
