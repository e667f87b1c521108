package relations_test

import (
	"os"
	"strings"
	"testing"

	"github.com/routefuzz/routefuzz/check"
	"github.com/routefuzz/routefuzz/model"
	"github.com/routefuzz/routefuzz/props"
	"github.com/routefuzz/routefuzz/relations"
	"github.com/routefuzz/routefuzz/sut/fixed"
	"github.com/routefuzz/routefuzz/sut/legacy"
	"github.com/routefuzz/routefuzz/sut/linux"
)

// Each relation finds KB287032 on legacy with no model, and shrinks it to
// its core: reachability and history independence to the three ops of
// make hunt (two adapters share a subnet, the second's address is
// deleted), undo to one add whose undo pair is the other adapter's add
// and del. Over these seeds each took 1 to 76 checks; the budget is 300.
func TestLegacyKB287032FoundByEachRelation(t *testing.T) {
	want := map[string]int{"reachability": 3, "history": 3, "undo": 1}
	for _, rel := range relations.All {
		for seed := uint64(1); seed <= 3; seed++ {
			o := &relations.Oracle{Relations: []*relations.Relation{rel}, Twin: legacy.New()}
			res, err := props.Hunt(o.Judged(legacy.New(), false), props.Config{Name: "legacy", Attrs: true}, props.Budget{Seed: seed, Checks: 300})
			if err != nil {
				t.Fatalf("%s, seed %d: %v", rel.Name, seed, err)
			}
			d := res.Minimal
			if d == nil || res.Flaky {
				t.Fatalf("%s, seed %d: KB287032 not found in %d checks", rel.Name, seed, res.Checks)
			}
			if d.Relation != rel.Name {
				t.Fatalf("%s, seed %d: found a failure of %q:\n%s", rel.Name, seed, d.Relation, d.Report())
			}
			if len(d.Ops) != want[rel.Name] {
				t.Errorf("%s, seed %d: shrunk to %d ops, want %d:\n%s", rel.Name, seed, len(d.Ops), want[rel.Name], d.Report())
				continue
			}
			// The KB287032 shape: an add on one adapter, then an add and
			// a del on another, in the same subnet.
			ops := d.Ops
			if rel.Name == "undo" {
				ops = d.Sides[1].Ops
			}
			if len(ops) != 3 || ops[0].Kind != model.Add || ops[1].Kind != model.Add || ops[2].Kind != model.Del ||
				ops[0].Adapter == ops[1].Adapter || ops[1].Adapter != ops[2].Adapter ||
				ops[0].Prefix.Masked() != ops[1].Prefix.Masked() {
				t.Errorf("%s, seed %d: not KB287032's shape:\n%s", rel.Name, seed, d.Report())
			}
			if !strings.Contains(d.Report(), "breaks relation "+rel.Name) {
				t.Errorf("%s, seed %d: the report does not name the relation:\n%s", rel.Name, seed, d.Report())
			}
		}
	}
}

// fixed satisfies every relation, in every setting.
func TestFixedHoldsEveryRelation(t *testing.T) {
	for _, promote := range []bool{false, true} {
		for _, keep := range []bool{false, true} {
			o := &relations.Oracle{Twin: fixed.New()}
			res, err := props.Hunt(o.Judged(fixed.New(), false), props.Config{Name: "fixed", Attrs: true, Promote: promote, KeepAddrOnDown: keep}, props.Budget{Seed: 42, Checks: 200})
			if err != nil {
				t.Fatal(err)
			}
			if res.Minimal != nil {
				t.Fatalf("promote=%v keep=%v: fixed breaks a relation:\n%s", promote, keep, res.Minimal.Report())
			}
			if res.Steps < 4000 || o.Counts.SecondRuns < res.Steps {
				t.Fatalf("promote=%v keep=%v: only %d steps, %d second runs", promote, keep, res.Steps, o.Counts.SecondRuns)
			}
		}
	}
}

// The kernel satisfies every relation, apart from its recorded
// divergences (excluded from the run and from the second runs alike). A
// short run: each op costs a second run from a fresh reset.
func TestLinuxHoldsEveryRelation(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("the kernel stack needs root")
	}
	stack, err := linux.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer stack.Close()
	twin, err := linux.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer twin.Close()
	exclude, err := props.ExclusionsFor("linux", []string{"known"})
	if err != nil {
		t.Fatal(err)
	}
	o := &relations.Oracle{Twin: twin, Exclude: exclude}
	res, err := props.Hunt(o.Judged(stack, false), props.Config{Name: "linux", Attrs: true, Exclude: exclude}, props.Budget{Seed: 1, Checks: 8, Steps: 20})
	if err != nil {
		t.Fatal(err)
	}
	if res.Minimal != nil {
		t.Fatalf("linux breaks a relation:\n%s", res.Minimal.Report())
	}
	if res.Steps < 50 {
		t.Fatalf("only %d steps", res.Steps)
	}
}

// bogus is fixed with a route the model never shows: a divergence from
// the model, but no relation's failure (it is there in every run).
type bogus struct{ *fixed.Stack }

func (b bogus) Routes() (model.Table, error) {
	t, err := b.Stack.Routes()
	if err != nil {
		return nil, err
	}
	r, _ := model.ParseRoute("198.18.0.0/15 dev a0")
	return model.NewTable(append(t, r)), nil
}

// With -oracle relations the model is never compared; with both it is.
func TestModelNotCompared(t *testing.T) {
	for _, withModel := range []bool{false, true} {
		o := &relations.Oracle{Twin: bogus{fixed.New()}}
		res, err := props.Hunt(o.Judged(bogus{fixed.New()}, withModel), props.Config{Name: "bogus", Attrs: true}, props.Budget{Seed: 1, Checks: 20})
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case withModel && (res.Minimal == nil || res.Minimal.Relation != ""):
			t.Errorf("with the model: want a divergence from the model, got %v", res.Minimal)
		case !withModel && res.Minimal != nil:
			t.Errorf("relations only: the model was compared:\n%s", res.Minimal.Report())
		}
	}
}

// The report of a relation's failure shows both runs side by side, their
// ops and the observables that differ, and a replay fails the same way.
func TestRelationReportShowsBothRuns(t *testing.T) {
	cfg := model.Config{Adapters: []string{"a0", "a1"}}
	ops := []model.Op{model.MustParseOp("add a0 10.0.0.1/24")}
	o := &relations.Oracle{Relations: []*relations.Relation{relations.Undo}, Twin: legacy.New()}
	stack := o.Judged(legacy.New(), false)
	d, err := check.Replay("legacy", stack, cfg, ops, nil)
	if err != nil || d == nil {
		t.Fatalf("want undo to fail: %v, %v", d, err)
	}
	got := d.Report()
	for _, w := range []string{
		"legacy breaks relation undo after op 1",
		"    before                  | undone",
		"      1  add a0 10.0.0.1/24 |   1  add a0 10.0.0.1/24",
		"  !                         |   2  add a1 10.0.0.1/24",
		"  !                         |   3  del a1 10.0.0.1/24",
		"  - 10.0.0.0/24 dev a0 src 10.0.0.1",
		"  ! 10.0.0.2 dev a0 src 10.0.0.1",
	} {
		if !strings.Contains(got, w) {
			t.Errorf("report lacks %q:\n%s", w, got)
		}
	}
	if d.Aspects()&check.RelationAspect == 0 {
		t.Errorf("aspects %s lack the relation", d.Aspects())
	}
	if ok, err := check.Confirm(stack, d, 2, nil); !ok || err != nil {
		t.Errorf("replayed, it does not fail the same way (%v)", err)
	}
}

// Lookups that differ only in what the stack declares order-dependent
// agree; a stack that declares nothing is held to every answer.
func TestOrderDependentIsData(t *testing.T) {
	// Plugging a0 back makes it the last adapter, so a route by a2,
	// which has no address, takes its source from a1 in the run, and from
	// a0 in the rebuilt order (which has no plug): the IPv4 source is
	// order-dependent on Linux.
	cfg := model.Config{Adapters: []string{"a0", "a1", "a2"}}
	var ops []model.Op
	for _, s := range []string{"unplug a0", "plug a0", "add a0 10.0.0.1/24", "add a1 10.0.1.1/24", "route add 198.51.100.0/24 dev a2"} {
		ops = append(ops, model.MustParseOp(s))
	}
	for _, free := range [][]relations.Freedom{nil, {relations.SourceV4}, {relations.SharedSubnet}, {}} {
		o := &relations.Oracle{Relations: []*relations.Relation{relations.HistoryIndependence}, Twin: fixed.New(), Free: free}
		d, err := check.Replay("fixed", o.Judged(fixed.New(), false), cfg, ops, nil)
		if err != nil {
			t.Fatal(err)
		}
		sourceFree := free == nil || len(free) == 1 && free[0] == relations.SourceV4
		switch {
		case sourceFree && d != nil:
			t.Errorf("free %v: want no failure, got\n%s", free, d.Report())
		case !sourceFree && d == nil:
			t.Errorf("free %v: want the source to count", free)
		case !sourceFree && !strings.Contains(d.Report(), "! 198.51.100.1 dev a2 src 10.0.1.1 | 198.51.100.1 dev a2 src 10.0.0.1"):
			t.Errorf("free %v: want the source to differ:\n%s", free, d.Report())
		}
	}
}

// A neighbour may leave by an adapter where one address of the subnet
// has noprefixroute and another has not (IPv6 prefix routes are per
// address): found by an earlier holder rule, on fixed.
func TestReachabilityHolderWithNoPrefixRouteSibling(t *testing.T) {
	cfg := model.Config{Adapters: []string{"a0", "a1", "a2"}}
	var ops []model.Op
	for _, s := range []string{"add a2 2001:db8::1/64", "add a0 2001:db8::2/64 noprefixroute", "add a0 2001:db8::1/64"} {
		ops = append(ops, model.MustParseOp(s))
	}
	o := &relations.Oracle{Relations: []*relations.Relation{relations.Reachability}}
	if d, err := check.Replay("fixed", o.Judged(fixed.New(), false), cfg, ops, nil); d != nil || err != nil {
		t.Fatalf("%v\n%v", err, d)
	}
}

// Without a twin, second runs run on the stack itself, which is then
// reset and replayed back to where the run was.
func TestWithoutATwin(t *testing.T) {
	o := &relations.Oracle{}
	res, err := props.Hunt(o.Judged(fixed.New(), false), props.Config{Name: "fixed", Attrs: true}, props.Budget{Seed: 3, Checks: 50})
	if err != nil || res.Minimal != nil {
		t.Fatalf("fixed without a twin: %v\n%v", err, res.Minimal)
	}
	o = &relations.Oracle{Relations: []*relations.Relation{relations.Undo}}
	d, err := check.Replay("legacy", o.Judged(legacy.New(), false), model.Config{Adapters: []string{"a0", "a1"}}, []model.Op{model.MustParseOp("add a0 10.0.0.1/24")}, nil)
	if err != nil || d == nil || d.Relation != "undo" {
		t.Fatalf("legacy without a twin: want undo to fail, got %v, %v", d, err)
	}
}
