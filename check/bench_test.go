package check

import (
	"testing"

	"github.com/routefuzz/routefuzz/internal/benchops"
	"github.com/routefuzz/routefuzz/model"
	"github.com/routefuzz/routefuzz/sut/fixed"
)

// BenchmarkFixedStep: steps per second of the full comparison (model and
// fixed stack: apply, results, routes, addresses), resetting every 30 ops
// like a rapid check.
func BenchmarkFixedStep(b *testing.B) {
	ops := benchops.Ops(3, 30*1024, 1)
	cfg := model.Config{Adapters: []string{"a0", "a1", "a2"}}
	stack := fixed.New()
	var run *Run
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if i%30 == 0 {
			var err error
			if run, _, err = Start("fixed", stack, cfg, nil); err != nil {
				b.Fatal(err)
			}
		}
		if d, err := run.Step(ops[i%len(ops)]); d != nil || err != nil {
			b.Fatal(d, err)
		}
		i++
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "steps/s")
}
