package gvisor

import (
	"os"
	"strconv"
	"testing"

	"github.com/routefuzz/routefuzz/model"
	"github.com/routefuzz/routefuzz/props"
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
	res, err := props.Hunt(s, props.Config{Name: "gvisor-" + m.String(), Adapters: 2, Promote: true, KeepAddrOnDown: true, Exclude: exclude},
		props.Budget{Seed: seed + 1, Checks: 200, Steps: 20})
	if err != nil {
		t.Fatal(err)
	}
	t.Log(res.Summary("gvisor-"+m.String()), s.Seen)
	if res.Minimal != nil {
		t.Log(res.Minimal.Report())
	}
}

// exclude skips the ops of the divergences triaged so far, that the
// profile cannot amend (docs/gvisor.md).
func exclude(st *model.State, op model.Op) bool {
	return SentrySubnetRouteLoss(st, op)
}
