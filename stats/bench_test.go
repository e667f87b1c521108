package stats

import (
	"testing"

	"github.com/routefuzz/routefuzz/internal/benchops"
	"github.com/routefuzz/routefuzz/model"
)

// BenchmarkCollectorStep is the collector's own cost per step (Before and
// After), on the ops the model's benchmark applies, resetting every 30
// ops; the model's step is not in it.
func BenchmarkCollectorStep(b *testing.B) {
	ops := benchops.Ops(3, 30*1024, 1)
	cfg := model.Config{Adapters: []string{"a0", "a1", "a2"}}
	// The states before and after each op, computed outside the loop.
	type step struct {
		before, after *model.State
		want          model.Result
	}
	steps := make([]step, len(ops))
	var s *model.State
	for i, op := range ops {
		if i%30 == 0 {
			s, _ = model.New(cfg)
		}
		b := s.Clone()
		b.Addrs()
		want, _ := model.ResultOf(s.Apply(op))
		s.Addrs()
		steps[i] = step{b, s.Clone(), want}
		steps[i].after.Addrs()
	}
	c := NewCollector()
	c.Begin()
	i := 0
	b.ReportAllocs()
	for b.Loop() {
		if i%30 == 0 {
			c.End()
			c.Begin()
		}
		st := steps[i%len(steps)]
		c.Before(st.before, ops[i%len(ops)])
		c.After(st.after, st.want)
		i++
	}
}
