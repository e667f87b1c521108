package model

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"testing"
)

// benchOps returns a deterministic mix of adds and deletes over adapters
// a0..a(n-1), the same shape the state machine draws.
func benchOps(n, count int, seed uint64) []Op {
	r := rand.New(rand.NewPCG(seed, 1))
	ops := make([]Op, count)
	for i := range ops {
		op := Op{Kind: Add, Adapter: fmt.Sprintf("a%d", r.IntN(n))}
		if r.IntN(3) == 0 {
			op.Kind = Del
		}
		if r.IntN(3) < 2 {
			op.Prefix = netip.PrefixFrom(netip.AddrFrom4([4]byte{10, 0, byte(r.IntN(3)), byte(r.IntN(6))}), []int{24, 16, 8, 31, 32}[r.IntN(5)])
		} else {
			op.Prefix = netip.PrefixFrom(netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 7: byte(r.IntN(3)), 15: byte(r.IntN(4))}), []int{64, 48, 128}[r.IntN(3)])
		}
		ops[i] = op
	}
	return ops
}

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
	ops := benchOps(3, 30*1024, 1)
	cfg := Config{Adapters: adapters(3)}
	s, _ := New(cfg)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if i%30 == 0 {
			s, _ = New(cfg)
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
			s, _ := New(Config{Adapters: adapters(8)})
			r := rand.New(rand.NewPCG(2, 3))
			var present []Op
			for s.Len() < n {
				op := Op{Kind: Add, Adapter: fmt.Sprintf("a%d", r.IntN(8)),
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
				del.Kind = Del
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
