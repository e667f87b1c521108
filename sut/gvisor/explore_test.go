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
		t.Skip("set GVISOR_EXPLORE=raw|sentry|connected")
	}
	m := map[string]Mode{"raw": Raw, "sentry": Sentry, "connected": Connected}[mode]
	seed, _ := strconv.ParseUint(os.Getenv("GVISOR_SEED"), 10, 64)
	s := NewProfiled(m)
	s.HoldLookups = os.Getenv("GVISOR_HOLD") != ""
	defer s.Close()
	var stack sut.Stack = forgetting{s}
	if m == Raw {
		// No connected routes: compare the addresses only.
		stack = addrsOnly{s}
	}
	res, err := props.Hunt(stack, props.Config{Name: "gvisor-" + m.String(), Adapters: envInt("GVISOR_ADAPTERS", 2), IPv4: os.Getenv("GVISOR_V4") != "", Promote: true, KeepAddrOnDown: true, Exclude: func(st *model.State, op model.Op) bool { return exclude(m, st, op) }},
		props.Budget{Seed: seed + 1, Checks: envInt("GVISOR_CHECKS", 200), Steps: 20})
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
func exclude(mode Mode, st *model.State, op model.Op) bool {
	return mode == Sentry && SentrySubnetRouteLoss(st, op) || OtherLength(st, op) || reAddLength(op) ||
		op.Kind == model.Add && op.Prefix.Addr() == netip.IPv4Unspecified()
}

// forgetting clears lengths on every Reset.
type forgetting struct{ *Profiled }

func (f forgetting) Reset(cfg model.Config) error {
	clear(lengths)
	return f.Profiled.Reset(cfg)
}

// lengths remembers the first length each address was added with in
// this check: reAddLength skips an add at another (held-route re-add
// keeps the old length: TestHeldReAddKeepsLength).
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

// addrsOnly is a stack compared on its addresses alone.
type addrsOnly struct{ *Profiled }

func (a addrsOnly) Limits() sut.Limits {
	l := a.Profiled.Limits()
	l.Observables = []string{"addresses"}
	return l
}

func envInt(name string, d int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil {
		return n
	}
	return d
}
