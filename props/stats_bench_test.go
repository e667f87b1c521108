package props

import (
	"testing"

	"github.com/routefuzz/routefuzz/check"
	"github.com/routefuzz/routefuzz/stats"
	"github.com/routefuzz/routefuzz/sut/fixed"
)

// BenchmarkHuntStepStats is BenchmarkHuntStep with the statistics
// collected, as Hunt collects them: its ratio to BenchmarkHuntStep is
// what the statistics cost on the hot path.
func BenchmarkHuntStepStats(b *testing.B) {
	var st check.Stats
	prop := Property(fixed.New(), Config{Name: "fixed", Attrs: true, Stats: &st, Generated: stats.NewCollector()})
	runRapid(b, func() int { return st.Steps }, prop)
}
