package gvisor

import (
	"os"
	"strconv"
	"testing"

	"github.com/routefuzz/routefuzz/model"
	"github.com/routefuzz/routefuzz/props"
)

// TestExplore hunts for divergences from the gVisor profile of the model
// past the recorded bugs (the stack's known exclusions), for triage by
// hand: GVISOR_EXPLORE=raw|sentry|connected, GVISOR_SEED, GVISOR_HOLD=1
// (every lookup holds its route), GVISOR_STRICT=1 (an answer the profile
// does not predict stops the hunt with both), GVISOR_ADAPTERS,
// GVISOR_V4=1 (IPv4 only), GVISOR_CHECKS.
func TestExplore(t *testing.T) {
	mode := os.Getenv("GVISOR_EXPLORE")
	if mode == "" {
		t.Skip("set GVISOR_EXPLORE=raw|sentry|connected")
	}
	m := map[string]Mode{"raw": Raw, "sentry": Sentry, "connected": Connected}[mode]
	seed, _ := strconv.ParseUint(os.Getenv("GVISOR_SEED"), 10, 64)
	s := NewProfiled(m)
	s.HoldLookups = os.Getenv("GVISOR_HOLD") != ""
	s.Strict = os.Getenv("GVISOR_STRICT") != ""
	defer s.Close()
	v4 := os.Getenv("GVISOR_V4") != ""
	res, err := props.Hunt(s, props.Config{Name: "gvisor-" + m.String(), Adapters: envInt("GVISOR_ADAPTERS", 2), IPv4: v4, IPv6: !v4,
		Promote: true, KeepAddrOnDown: true, Exclude: known(t, m)},
		props.Budget{Seed: seed + 1, Checks: envInt("GVISOR_CHECKS", 200), Steps: 20})
	if err != nil {
		t.Fatal(err)
	}
	t.Log(res.Summary("gvisor-"+m.String()), s.Amended, res.Generated.Kinds, res.Generated.Results, res.Elapsed)
	if res.Minimal != nil {
		t.Log(res.Minimal.Report())
	}
}

// known returns the exclusions of the recorded gVisor bugs for a stack in
// mode m: those of "gvisor" (the sentry's) or of "gvisor-raw".
func known(t testing.TB, m Mode) func(*model.State, model.Op) bool {
	name := "gvisor"
	if m == Raw {
		name = "gvisor-raw"
	}
	ex, err := props.ExclusionsFor(name, []string{"known"})
	if err != nil {
		t.Fatal(err)
	}
	return ex
}

func envInt(name string, d int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil {
		return n
	}
	return d
}
