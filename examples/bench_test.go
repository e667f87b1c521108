package examples_test

import (
	"testing"

	"github.com/routefuzz/routefuzz/check"
	"github.com/routefuzz/routefuzz/internal/benchops"
	"github.com/routefuzz/routefuzz/model"
	"github.com/routefuzz/routefuzz/sut"
	"github.com/routefuzz/routefuzz/sut/fixed"
	"github.com/routefuzz/routefuzz/sut/process"
)

// BenchmarkFixedStackStep measures a step of the comparison engine (an op
// applied to the model and the stack, then the stack's routes and
// addresses read and compared) against examples/fixedstack through the
// protocol, three requests a step, resetting every 30 ops like a rapid
// check. The in-process sub-benchmark runs the same ops against the same
// stack (sut/fixed) without the protocol, for comparison in the same run.
// Both report steps/s.
func BenchmarkFixedStackStep(b *testing.B) {
	ops := benchops.Ops(3, 30*1024, 1)
	b.Run("exec", func(b *testing.B) {
		s, err := process.Start(process.Quote(buildFixedStack(b))+" -promote=0", process.Options{})
		if err != nil {
			b.Fatal(err)
		}
		defer s.Close()
		benchSteps(b, s, ops)
	})
	b.Run("in-process", func(b *testing.B) {
		benchSteps(b, fixed.New(), ops)
	})
}

func benchSteps(b *testing.B, s sut.Stack, ops []model.Op) {
	cfg := model.Config{Adapters: []string{"a0", "a1", "a2"}}
	if p := sut.LimitsOf(s).Promote; len(p) == 1 {
		cfg.Promote = p[0]
	}
	var run *check.Run
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if i%30 == 0 {
			var d *check.Divergence
			var err error
			if run, d, err = check.Start("exec", s, cfg, nil); d != nil || err != nil {
				b.Fatal(d, err)
			}
		}
		if d, err := run.Step(ops[i%len(ops)]); d != nil || err != nil {
			b.Fatal(d, err)
		}
		i++
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "steps/s")
}
