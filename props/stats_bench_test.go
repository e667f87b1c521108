package props

import (
	"flag"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/routefuzz/routefuzz/check"
	"github.com/routefuzz/routefuzz/stats"
	"github.com/routefuzz/routefuzz/sut/fixed"
)

// BenchmarkHuntStepStats is BenchmarkHuntStep with the statistics
// collected, as Hunt collects them.
func BenchmarkHuntStepStats(b *testing.B) {
	var st check.Stats
	prop := Property(fixed.New(), Config{Name: "fixed", Attrs: true, Stats: &st, Generated: stats.NewCollector()})
	runRapid(b, func() int { return st.Steps }, prop)
}

// BenchmarkStatsCost is what the statistics cost on the hot path, as a
// ratio that survives a loaded machine: it runs the same 20 checks
// (a fixed seed) without and with the collector by turns, a few
// milliseconds each, and reports the time per step of each and their
// ratio (stats-ratio, 1.0 is free).
func BenchmarkStatsCost(b *testing.B) {
	for k, v := range map[string]string{"rapid.checks": "20", "rapid.seed": "7"} {
		old := flag.Lookup(k).Value.String()
		flag.Set(k, v)
		defer flag.Set(k, old)
	}
	var off, on check.Stats
	propOff := Property(fixed.New(), Config{Name: "fixed", Attrs: true, Stats: &off})
	propOn := Property(fixed.New(), Config{Name: "fixed", Attrs: true, Stats: &on, Generated: stats.NewCollector()})
	var tOff, tOn time.Duration
	for b.Loop() {
		for i, prop := range []func(*rapid.T){propOff, propOn} {
			start := time.Now()
			tb := &logTB{}
			rapid.Check(tb, prop)
			if tb.failed {
				b.Fatal(tb.b.String())
			}
			if i == 0 {
				tOff += time.Since(start)
			} else {
				tOn += time.Since(start)
			}
		}
	}
	if off.Steps != on.Steps {
		b.Fatalf("the two ran %d and %d steps", off.Steps, on.Steps)
	}
	b.ReportMetric(float64(tOff.Nanoseconds())/float64(off.Steps), "ns/step-off")
	b.ReportMetric(float64(tOn.Nanoseconds())/float64(on.Steps), "ns/step-on")
	b.ReportMetric(float64(tOn)/float64(tOff), "stats-ratio")
}
