package fixed_test

import (
	"math/rand/v2"
	"net/netip"
	"testing"

	"github.com/routefuzz/routefuzz/internal/benchops"
	"github.com/routefuzz/routefuzz/internal/pools"
	"github.com/routefuzz/routefuzz/model"
	"github.com/routefuzz/routefuzz/sut/fixed"
)

// BenchmarkStack is a step of the fixed stack alone, without the model:
// an op applied, the table read and the lookups of a fixed list of
// destinations answered, resetting every 30 ops like a rapid check.
// "addrs" is internal/benchops' address workload, the same across
// versions (run it on an older build to compare); "routes" is routeGen's
// mix, a third of it route ops.
func BenchmarkStack(b *testing.B) {
	cfg := model.Config{Adapters: []string{"a0", "a1", "a2"}}
	b.Run("addrs", func(b *testing.B) { benchStack(b, cfg, benchops.Ops(3, 30*1024, 1)) })
	b.Run("routes", func(b *testing.B) { benchStack(b, cfg, routeOps(b, cfg, 1024)) })
}

// routeOps returns n sequences of 30 ops drawn by routeGen, against the
// model.
func routeOps(b *testing.B, cfg model.Config, n int) []model.Op {
	g := &routeGen{r: rand.New(rand.NewPCG(1, 1)), adapters: cfg.Adapters}
	var ops []model.Op
	for range n {
		m, err := model.New(cfg)
		if err != nil {
			b.Fatal(err)
		}
		for range 30 {
			op := g.op(m)
			_ = m.Apply(op)
			ops = append(ops, op)
		}
	}
	return ops
}

// benchDsts are the destinations looked up after each op: an address
// of each pool network, and what only default routes reach.
func benchDsts() []netip.Addr {
	var out []netip.Addr
	for _, n := range pools.V4Nets[:3] {
		b := n.As4()
		b[3] = 5
		out = append(out, netip.AddrFrom4(b), n.Next())
	}
	for _, n := range pools.V6Nets {
		out = append(out, n.Next(), n.Next().Next().Next().Next().Next())
	}
	return append(out, model.Outside4, model.Outside6, netip.MustParseAddr("198.51.100.7"))
}

func benchStack(b *testing.B, cfg model.Config, ops []model.Op) {
	s := fixed.New()
	dsts := benchDsts()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if i%30 == 0 {
			if err := s.Reset(cfg); err != nil {
				b.Fatal(err)
			}
		}
		_ = s.Apply(ops[i%len(ops)])
		if _, err := s.Routes(); err != nil {
			b.Fatal(err)
		}
		if _, err := s.LookupAll(dsts); err != nil {
			b.Fatal(err)
		}
		i++
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "steps/s")
}
