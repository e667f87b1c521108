package gvisor

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/routefuzz/routefuzz/check"
	"github.com/routefuzz/routefuzz/model"
	"github.com/routefuzz/routefuzz/props"
)

// The harness finds the held-route order unaided: with hold ops drawn
// (gVisor declares them: an open connection's route), in mode Connected
// (past the sentry's route bug), compared with the gVisor profile of the
// model, and every known bug but this one excluded, a short IPv4 hunt on
// one adapter finds and shrinks it to: a deleted address that a held
// route still uses comes back, when re-added, at its old place in the
// primary list, ahead of an address added before it.
func TestHuntFindsHeldOrder(t *testing.T) {
	s := NewProfiled(Connected)
	defer s.Close()
	var names []string
	for _, n := range props.ExclusionNamesFor("gvisor") {
		if n != "gvisor-held-source-deleted" {
			names = append(names, n)
		}
	}
	ex, err := props.ExclusionsFor("gvisor", names)
	if err != nil {
		t.Fatal(err)
	}
	res, err := props.Hunt(forgetting{s}, props.Config{Name: "gvisor", Adapters: 1, IPv4: true, Promote: true, KeepAddrOnDown: true,
		Exclude: func(st *model.State, op model.Op) bool { return ex(st, op) || reAddLength(op) }},
		props.Budget{Seed: 5, Checks: 1000, Steps: 20})
	if err != nil {
		t.Fatal(err)
	}
	if res.Minimal == nil {
		t.Fatalf("no divergence: %s", res.Summary("gvisor"))
	}
	got := check.FormatOps(res.Minimal.Ops)
	t.Logf("%s\n%s", res.Summary("gvisor"), got)
	if !strings.Contains(got, "hold 10.0.0.") || len(res.Minimal.Ops) != 5 {
		t.Errorf("want a hold and 5 ops:\n%s", res.Minimal.Report())
	}
}

// The shrunk case, without the hunt: held by the lookups made while it
// was there, 10.0.0.1 comes back first; not held, last.
func TestHeldAddressRevivesFirst(t *testing.T) {
	for _, hold := range []bool{false, true} {
		s := newStack(t, Connected, "a0")
		s.HoldLookups = hold
		apply(t, s, "add a0 10.0.0.1/24")
		lookup(t, s, "10.0.0.1")
		apply(t, s, "del a0 10.0.0.1/24", "add a0 10.0.0.2/24", "add a0 10.0.0.1/24")
		s.HoldLookups = false
		want := "10.0.0.255 broadcast dev a0 src 10.0.0.2"
		if hold {
			want = "10.0.0.255 broadcast dev a0 src 10.0.0.1"
		}
		if got := lookup(t, s, "10.0.0.255"); got != want {
			t.Errorf("held %v: %q, want %q", hold, got, want)
		}
	}
}

// forgetting clears lengths on every Reset.
type forgetting struct{ *Profiled }

func (f forgetting) Reset(cfg model.Config) error {
	clear(lengths)
	return f.Profiled.Reset(cfg)
}

// lengths remembers the first length each address was added with in
// this check: reAddLength skips an add at another. A route held while
// its address was deleted keeps the old length on a re-add
// (TestHeldReAddKeepsLength); no exclusion can say so, as it depends on
// what was deleted before, which the model does not keep.
var lengths = map[netip.Addr]int{}

func reAddLength(op model.Op) bool {
	if op.Kind != model.Add {
		return false
	}
	n, ok := lengths[op.Prefix.Addr()]
	if !ok {
		lengths[op.Prefix.Addr()] = op.Prefix.Bits()
		return false
	}
	return n != op.Prefix.Bits()
}
