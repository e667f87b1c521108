package check

import (
	"strings"
	"testing"

	"github.com/routefuzz/routefuzz/model"
	"github.com/routefuzz/routefuzz/sut/fixed"
	"github.com/routefuzz/routefuzz/sut/legacy"
)

func ops(lines ...string) []model.Op {
	var o []model.Op
	for _, l := range lines {
		o = append(o, model.MustParseOp(l))
	}
	return o
}

var kb = ops("add a0 10.0.0.1/24", "add a1 10.0.0.2/24", "del a1 10.0.0.2/24")

// The report is for a person: the op list, then the tables side by side
// with the differences marked. Pin it exactly.
func TestReportKB287032(t *testing.T) {
	d, err := Replay("legacy", legacy.New(), model.Config{Adapters: []string{"a0", "a1"}}, kb, nil)
	if err != nil || d == nil {
		t.Fatalf("legacy does not diverge on the KB case: %v", err)
	}
	want := `legacy diverges from the model in routes+lookups after op 3 (adapters=a0,a1 promote=off)
    1  add a0 10.0.0.1/24
    2  add a1 10.0.0.2/24
>   3  del a1 10.0.0.2/24
result of op 3: model ok, legacy ok
routes (- missing from legacy, + extra in legacy):
    model                                       | legacy
  - 10.0.0.0/24 dev a0 src 10.0.0.1             | 
  +                                             | 10.0.0.0/24 dev a1 src 10.0.0.2
    local 10.0.0.1/32 dev a0 src 10.0.0.1       | local 10.0.0.1/32 dev a0 src 10.0.0.1
  - broadcast 10.0.0.255/32 dev a0 src 10.0.0.1 | 
  +                                             | broadcast 10.0.0.255/32 dev a1 src 10.0.0.2
lookups (3 of 6 probes answered differently):
    model                                    | legacy
  ! 10.0.0.0 dev a0 src 10.0.0.1             | 10.0.0.0 dev a1 src 10.0.0.2
  ! 10.0.0.2 dev a0 src 10.0.0.1             | 10.0.0.2 dev a1 src 10.0.0.2
  ! 10.0.0.255 broadcast dev a0 src 10.0.0.1 | 10.0.0.255 broadcast dev a1 src 10.0.0.2
`
	if got := d.Report(); got != want {
		t.Errorf("report:\n%s\nwant:\n%s", got, want)
	}
	if d.Aspects() != RoutesAspect|Lookups.Aspect() || d.Aspects().Essential() != RoutesAspect {
		t.Errorf("aspects = %v (essential %v), want routes+lookups (routes)", d.Aspects(), d.Aspects().Essential())
	}
	if c := Diff(Routes.Of(d)); c.Missing != 2 || c.Extra != 2 {
		t.Errorf("Diff = %+v, want 2 missing 2 extra", c)
	}
}

func TestFixedAgreesOnKB(t *testing.T) {
	d, err := Replay("fixed", fixed.New(), model.Config{Adapters: []string{"a0", "a1"}}, kb, nil)
	if err != nil || d != nil {
		t.Fatalf("fixed: %v %v", err, d)
	}
}

// A stack that breaks outside its semantics is a harness error, never a
// divergence.
type brokenStack struct{ fixed.Stack }

func (brokenStack) Apply(model.Op) error { return errBroken }

var errBroken = &brokenErr{}

type brokenErr struct{}

func (*brokenErr) Error() string { return "netlink socket closed" }

func TestHarnessErrorIsNotADivergence(t *testing.T) {
	d, err := Replay("broken", &brokenStack{}, model.Config{Adapters: []string{"a0"}}, kb[:1], nil)
	if d != nil || err == nil || !strings.Contains(err.Error(), "op 1 (add a0 10.0.0.1/24): netlink socket closed") {
		t.Fatalf("got divergence %v, error %v", d, err)
	}
}

// A result divergence and an address divergence are reported as such.
type wrongResult struct{ fixed.Stack }

func (s *wrongResult) Apply(op model.Op) error {
	s.Stack.Apply(op)
	return &model.OpError{Op: op, Result: model.Exists, Msg: "File exists"}
}

func TestResultDivergence(t *testing.T) {
	d, err := Replay("wrong", &wrongResult{}, model.Config{Adapters: []string{"a0"}}, kb[:1], nil)
	if err != nil || d == nil || d.Aspects() != ResultAspect {
		t.Fatalf("got %v %v", d, err)
	}
	if r := d.Report(); !strings.Contains(r, "result of op 1: model ok, wrong exists  <- differs") || !strings.Contains(r, "wrong said: add a0 10.0.0.1/24: exists: File exists") {
		t.Errorf("report:\n%s", r)
	}
}

// A stack that loses an address shows it in both reports.
type losesAddrs struct{ fixed.Stack }

func (s *losesAddrs) Addrs() ([]model.Addr, error) { return nil, nil }

func TestAddressDivergence(t *testing.T) {
	d, err := Replay("lossy", &losesAddrs{}, model.Config{Adapters: []string{"a0"}}, kb[:1], nil)
	if err != nil || d == nil || d.Aspects() != AddrsAspect {
		t.Fatalf("got %v %v", d, err)
	}
	if r := d.Report(); !strings.Contains(r, "addresses (- missing from lossy, + extra in lossy):\n  - a0 10.0.0.1/24\n") {
		t.Errorf("report:\n%s", r)
	}
	if h := string(d.HTML()); !strings.Contains(h, `<tr class="missing"><td class="m">-</td><td class="want">a0 10.0.0.1/24</td><td class="got"></td></tr>`) {
		t.Errorf("HTML lacks the missing address:\n%s", h)
	}
}
