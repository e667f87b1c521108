package model_test

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"testing"

	"github.com/routefuzz/routefuzz/internal/benchops"
	"github.com/routefuzz/routefuzz/model"
)

func adapters(n int) []string {
	a := make([]string, n)
	for i := range a {
		a[i] = fmt.Sprintf("a%d", i)
	}
	return a
}

// BenchmarkModelStep: one op plus the reads a comparison needs (routes and
// addresses), on 3 adapters, resetting every 30 ops like a rapid check.
func BenchmarkModelStep(b *testing.B) {
	ops := benchops.Ops(3, 30*1024, 1)
	cfg := model.Config{Adapters: adapters(3)}
	s, _ := model.New(cfg)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if i%30 == 0 {
			s, _ = model.New(cfg)
		}
		s.Apply(ops[i%len(ops)])
		_ = s.Routes()
		_ = s.Addrs()
		i++
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "steps/s")
}

// BenchmarkModelCost: the cost of one step (an add or delete, then the
// full table) as the number of addresses grows, over 8 adapters.
func BenchmarkModelCost(b *testing.B) {
	for _, n := range []int{10, 100, 1000} {
		b.Run(fmt.Sprintf("addrs=%d", n), func(b *testing.B) {
			s, _ := model.New(model.Config{Adapters: adapters(8)})
			r := rand.New(rand.NewPCG(2, 3))
			var present []model.Op
			for s.Len() < n {
				op := model.Op{Kind: model.Add, Adapter: fmt.Sprintf("a%d", r.IntN(8)),
					Prefix: netip.PrefixFrom(netip.AddrFrom4([4]byte{10, byte(r.IntN(4)), byte(r.IntN(256)), byte(r.IntN(256))}), []int{24, 16, 32}[r.IntN(3)])}
				if s.Apply(op) == nil {
					present = append(present, op)
				}
			}
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				// Delete one address and add it back: the count stays n.
				op := present[i%len(present)]
				del := op
				del.Kind = model.Del
				s.Apply(del)
				_ = s.Routes()
				s.Apply(op)
				_ = s.Routes()
				i++
			}
			b.ReportMetric(float64(2*b.N)/b.Elapsed().Seconds(), "steps/s")
		})
	}
}
