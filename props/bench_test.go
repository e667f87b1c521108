package props

import (
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/routefuzz/routefuzz/check"
	"github.com/routefuzz/routefuzz/sut/fixed"
)

// BenchmarkRapidBaseline is the yardstick that scripts/bench.sh divides
// the other figures by: one action of a trivial rapid state machine, a
// counter checked against a second counter. Ratios to it, measured in the
// same run, survive a change of machine better than absolute times.
func BenchmarkRapidBaseline(b *testing.B) {
	steps := 0
	runRapid(b, func() int { return steps }, func(t *rapid.T) {
		var got, want int
		t.Repeat(map[string]func(*rapid.T){
			"add": func(t *rapid.T) {
				n := rapid.IntRange(0, 9).Draw(t, "n")
				got += n
				want += n
				steps++
			},
			"": func(t *rapid.T) {
				if got != want {
					t.Fatalf("%d != %d", got, want)
				}
			},
		})
	})
}

// BenchmarkHuntStep is one step of the whole state machine against the
// fixed stack, as a hunt runs it: rapid drawing the op, the model, the
// stack, and the comparison.
func BenchmarkHuntStep(b *testing.B) {
	var stats check.Stats
	prop := Property(fixed.New(), Config{Name: "fixed", Attrs: true, Stats: &stats})
	runRapid(b, func() int { return stats.Steps }, prop)
}

// runRapid runs prop under rapid.Check until steps says it has taken b.N
// steps, and reports the time per step.
func runRapid(b *testing.B, steps func() int, prop func(*rapid.T)) {
	b.Helper()
	start := time.Now()
	for steps() < b.N {
		tb := &logTB{}
		rapid.Check(tb, prop)
		if tb.failed {
			b.Fatal(tb.b.String())
		}
	}
	b.ReportMetric(float64(time.Since(start).Nanoseconds())/float64(steps()), "ns/step")
}
