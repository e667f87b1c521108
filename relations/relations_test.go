package relations_test

import (
	"testing"

	"github.com/routefuzz/routefuzz/props"
	"github.com/routefuzz/routefuzz/relations"
	"github.com/routefuzz/routefuzz/sut/fixed"
	"github.com/routefuzz/routefuzz/sut/legacy"
)

func TestScratchLegacy(t *testing.T) {
	for _, rel := range relations.All {
		o := &relations.Oracle{Relations: []*relations.Relation{rel}, Twin: legacy.New()}
		res, err := props.Hunt(o.Judged(legacy.New(), false), props.Config{Name: "legacy", Attrs: true}, props.Budget{Seed: 1, Checks: 300})
		if err != nil {
			t.Fatal(err)
		}
		if res.Minimal == nil {
			t.Errorf("%s: nothing found in %d checks", rel.Name, res.Checks)
			continue
		}
		t.Logf("%s: found after %d checks, %d ops:\n%s", rel.Name, res.Checks, len(res.Minimal.Ops), res.Minimal.Report())
	}
}

func TestScratchFixed(t *testing.T) {
	o := &relations.Oracle{Twin: fixed.New()}
	res, err := props.Hunt(o.Judged(fixed.New(), false), props.Config{Name: "fixed", Attrs: true}, props.Budget{Seed: 1, Checks: 100})
	if err != nil {
		t.Fatal(err)
	}
	if res.Minimal != nil {
		t.Fatalf("fixed: %d ops:\n%s", len(res.Minimal.Ops), res.Minimal.Report())
	}
	t.Logf("%d checks %d steps", res.Checks, res.Steps)
}
