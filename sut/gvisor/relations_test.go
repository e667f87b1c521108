package gvisor

import (
	"testing"

	"github.com/routefuzz/routefuzz/check"
	"github.com/routefuzz/routefuzz/model"
	"github.com/routefuzz/routefuzz/props"
	"github.com/routefuzz/routefuzz/relations"
)

// The relations (check -oracle relations) judge gVisor with no model and
// no profile. Route ops are left out: gVisor shows no route table, so the
// relations would take the user routes from the model's bookkeeping, and
// gVisor's route semantics are its own (route-results,
// routes-outlive-state in docs/gvisor.md).
func noRouteOps(st *model.State, op model.Op) bool {
	return op.Kind == model.RouteAdd || op.Kind == model.RouteDel
}

// hunt runs a relations-only hunt on gVisor in mode m.
func relHunt(t *testing.T, m Mode, rels []*relations.Relation, exclude func(*model.State, model.Op) bool, seed uint64, checks int) props.Result {
	t.Helper()
	o := &relations.Oracle{Relations: rels, Twin: NewProfiled(m), Exclude: exclude}
	res, err := props.Hunt(o.Judged(NewProfiled(m), false), props.Config{Name: "gvisor", Attrs: true, Promote: true, KeepAddrOnDown: true, Exclude: exclude},
		props.Budget{Seed: seed, Checks: checks})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// Reachability finds the sentry's subnet route loss (bug 1, KB287032's
// symptom) unaided, with no model, and shrinks it to its three ops
// (corpus/gvisor-sentry-subnet-route-loss-gvisor-reachability-breaks.txtar).
func TestRelationsFindSentryRouteLoss(t *testing.T) {
	ex := func(st *model.State, op model.Op) bool { return noRouteOps(st, op) || op.Kind == model.Hold }
	res := relHunt(t, Sentry, []*relations.Relation{relations.Reachability}, ex, 3, 100)
	d := res.Minimal
	if d == nil || d.Relation != "reachability" {
		t.Fatalf("reachability not broken in %d checks: %v", res.Checks, d)
	}
	want := "    1  add a0 10.0.0.1/24\n    2  add a0 10.0.0.2/24\n>   3  del a0 10.0.0.1/24\n"
	if got := check.FormatOps(d.Ops); got != want {
		t.Errorf("shrunk to\n%swant\n%s\n%s", got, want, d.Report())
	}
}

// History finds a second sentry bug with no model: a del at another
// length removes the address and the route of the del's prefix, and
// leaves the address's own subnet route behind
// (corpus/gvisor-sentry-stale-route-gvisor-history-breaks.txtar).
func TestRelationsFindSentryStaleRoute(t *testing.T) {
	known, err := props.ExclusionsFor("gvisor", []string{"known"})
	if err != nil {
		t.Fatal(err)
	}
	ex := func(st *model.State, op model.Op) bool { return noRouteOps(st, op) || known(st, op) }
	res := relHunt(t, Sentry, nil, ex, 2, 100)
	d := res.Minimal
	if d == nil || d.Relation != "history" {
		t.Fatalf("history not broken in %d checks: %v", res.Checks, d)
	}
	want := "    1  add a0 10.0.0.1/8\n    2  add a0 10.0.1.2/24\n>   3  del a0 10.0.0.1/24\n"
	if got := check.FormatOps(d.Ops); got != want {
		t.Errorf("shrunk to\n%swant\n%s\n%s", got, want, d.Report())
	}
}

// With both sentry bugs fixed (mode Connected: del removes a subnet route
// no other address needs, and only at the address's own length) and the
// known bugs excluded, gVisor holds every relation over a short run:
// its IPv4 source choice and route order are the declared freedoms
// (relations.Default).
func TestRelationsHoldPastKnownBugs(t *testing.T) {
	known, err := props.ExclusionsFor("gvisor", []string{"known"})
	if err != nil {
		t.Fatal(err)
	}
	ex := func(st *model.State, op model.Op) bool {
		return noRouteOps(st, op) || known(st, op) || staleRouteDel(st, op)
	}
	res := relHunt(t, Connected, nil, ex, 1, 60)
	if res.Minimal != nil {
		t.Fatalf("gVisor breaks a relation:\n%s", res.Minimal.Report())
	}
	if res.Steps < 500 {
		t.Fatalf("only %d steps", res.Steps)
	}
}

// staleRouteDel is the del of an address at a length it is not held at:
// the sentry's stale route.
func staleRouteDel(st *model.State, op model.Op) bool {
	if op.Kind != model.Del {
		return false
	}
	for _, e := range st.On(op.Adapter) {
		if e.Prefix.Addr() == op.Prefix.Addr() && e.Prefix.Bits() != op.Prefix.Bits() {
			return true
		}
	}
	return false
}

// gVisor's netstack API alone (Raw) makes no route for an address, so
// reachability does not apply to it: it declares so (NotApplying), and
// the relations that remain hold.
func TestRawDeclaresReachabilityNotApplying(t *testing.T) {
	cfg := model.Config{Adapters: []string{"a0"}, Promote: true, KeepAddrOnDown: true}
	o := &relations.Oracle{Relations: []*relations.Relation{relations.Reachability}}
	d, err := check.Replay("gvisor-raw", o.Judged(NewProfiled(Raw), false), cfg, []model.Op{model.MustParseOp("add a0 10.0.0.1/24")}, nil)
	if err != nil || d != nil {
		t.Fatalf("%v\n%v", err, d)
	}
}
