package props

import (
	"strings"
	"testing"

	"github.com/routefuzz/routefuzz/check"
	"github.com/routefuzz/routefuzz/model"
	"github.com/routefuzz/routefuzz/sut"
	"github.com/routefuzz/routefuzz/sut/fixed"
	"github.com/routefuzz/routefuzz/sut/legacy"
)

func vs(t *testing.T, name string, stack sut.Stack, refName string, ref sut.Stack) *check.Pair {
	t.Helper()
	p, err := check.Vs(name, stack, refName, ref)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// legacy -vs fixed: no model compared, and still the KB287032 core,
// shrunk to 3 ops and reported against fixed.
func TestLegacyVsFixedFindsKB287032(t *testing.T) {
	for seed := uint64(1); seed <= 3; seed++ {
		res, err := Hunt(vs(t, "legacy", legacy.New(), "fixed", fixed.New()), Config{Name: "legacy", Attrs: true}, Budget{Seed: seed})
		if err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		d := res.Minimal
		if d == nil || res.Flaky {
			t.Fatalf("seed %d: legacy does not diverge from fixed in %d checks", seed, res.Checks)
		}
		if len(d.Ops) != 3 || d.Aspects()&check.RoutesAspect == 0 || d.Ref != "fixed" {
			t.Errorf("seed %d: want a 3-op route divergence from fixed:\n%s", seed, d.Report())
		}
		if r := d.Report(); !strings.HasPrefix(r, "legacy diverges from fixed in routes") || !strings.Contains(r, "fixed ") || strings.Contains(r, "model") {
			t.Errorf("seed %d: the report must name both stacks, and not the model:\n%s", seed, r)
		}
	}
}

// seeded is fixed with a seeded bug that the model-less comparison must
// catch: a table of three routes or more loses its last one.
type seeded struct{ *fixed.Stack }

func (s seeded) Routes() (model.Table, error) {
	t, err := s.Stack.Routes()
	if err != nil || len(t) < 3 {
		return t, err
	}
	return t[:len(t)-1], nil // three or more routes: the last is lost
}

// Two instances of the fixed stack agree over many random steps, and the
// same comparison catches a seeded bug in one of them: the agreement is
// not for want of comparing.
func TestFixedVsFixed(t *testing.T) {
	res, err := Hunt(vs(t, "fixed", fixed.New(), "fixed", fixed.New()), Config{Name: "fixed", Attrs: true}, Budget{Seed: 7, Checks: 300})
	if err != nil {
		t.Fatal(err)
	}
	if res.Minimal != nil {
		t.Fatalf("fixed diverges from fixed:\n%s", res.Minimal.Report())
	}
	if res.Steps < 5000 {
		t.Fatalf("only %d steps compared", res.Steps)
	}
	res, err = Hunt(vs(t, "seeded", seeded{fixed.New()}, "fixed", fixed.New()), Config{Name: "seeded", Attrs: true}, Budget{Seed: 7, Checks: 300})
	if err != nil {
		t.Fatal(err)
	}
	if res.Minimal == nil || res.Flaky || res.Minimal.Ref != "fixed" || res.Minimal.Aspects() != check.RoutesAspect {
		t.Fatalf("the seeded bug was not caught: %+v", res)
	}
	t.Logf("%s", res.Minimal.Report())
}
