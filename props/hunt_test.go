package props

import (
	"testing"

	"github.com/routefuzz/routefuzz/sut/fixed"
	"github.com/routefuzz/routefuzz/sut/legacy"
)

func TestHuntLegacyQuick(t *testing.T) {
	res, err := Hunt(legacy.New(), Config{Name: "legacy"}, Budget{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Log(res.Summary("legacy"))
	if res.Minimal == nil {
		t.Fatal("no divergence")
	}
	t.Log("\n" + res.Minimal.Report())
}

func TestHuntFixedQuick(t *testing.T) {
	for _, p := range []bool{false, true} {
		res, err := Hunt(fixed.New(), Config{Name: "fixed", Promote: p, Metrics: true}, Budget{Seed: 1, Checks: 300})
		if err != nil {
			t.Fatal(err)
		}
		t.Log(res.Summary("fixed"))
		if res.Minimal != nil {
			t.Fatal("\n" + res.Minimal.Report())
		}
	}
}
