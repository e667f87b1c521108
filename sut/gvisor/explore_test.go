package gvisor

import (
	"net/netip"
	"os"
	"strconv"
	"testing"

	"github.com/routefuzz/routefuzz/model"
	"github.com/routefuzz/routefuzz/props"
	"github.com/routefuzz/routefuzz/sut"
)

// TestExplore hunts for divergences from the Linux model past the
// documented ones (known), for triage by hand: GVISOR_EXPLORE=raw or
// sentry, GVISOR_SEED.
func TestExplore(t *testing.T) {
	mode := os.Getenv("GVISOR_EXPLORE")
	if mode == "" {
		t.Skip("set GVISOR_EXPLORE=raw|sentry")
	}
	m := Raw
	if mode == "sentry" {
		m = Sentry
	}
	seed, _ := strconv.ParseUint(os.Getenv("GVISOR_SEED"), 10, 64)
	s := NewProfiled(m)
	defer s.Close()
	var stack sut.Stack = s
	if m == Raw {
		// No connected routes: compare the addresses only.
		stack = addrsOnly{s}
	}
	res, err := props.Hunt(stack, props.Config{Name: "gvisor-" + m.String(), Adapters: 2, Promote: true, KeepAddrOnDown: true, Exclude: exclude},
		props.Budget{Seed: seed + 1, Checks: 200, Steps: 20})
	if err != nil {
		t.Fatal(err)
	}
	t.Log(res.Summary("gvisor-"+m.String()), s.Seen, res.Generated.Kinds, res.Generated.Results, res.Elapsed)
	if res.Minimal != nil {
		t.Log(res.Minimal.Report())
	}
}

// exclude skips the ops of the divergences triaged so far, that the
// profile cannot amend (docs/gvisor.md).
func exclude(st *model.State, op model.Op) bool {
	return SentrySubnetRouteLoss(st, op) || OtherLength(st, op) ||
		op.Kind == model.Add && op.Prefix.Addr() == netip.IPv4Unspecified()
}

// addrsOnly is a stack compared on its addresses alone.
type addrsOnly struct{ *Profiled }

func (a addrsOnly) Limits() sut.Limits {
	l := a.Profiled.Limits()
	l.Observables = []string{"addresses"}
	return l
}
