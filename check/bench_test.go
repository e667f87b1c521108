package check

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"testing"

	"github.com/routefuzz/routefuzz/model"
	"github.com/routefuzz/routefuzz/sut/fixed"
)

// BenchmarkFixedStep: steps per second of the full comparison (model and
// fixed stack: apply, results, routes, addresses), resetting every 30 ops
// like a rapid check.
func BenchmarkFixedStep(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 1))
	ops := make([]model.Op, 30*1024)
	for i := range ops {
		op := model.Op{Kind: model.Add, Adapter: fmt.Sprintf("a%d", r.IntN(3))}
		if r.IntN(3) == 0 {
			op.Kind = model.Del
		}
		if r.IntN(3) < 2 {
			op.Prefix = netip.PrefixFrom(netip.AddrFrom4([4]byte{10, 0, byte(r.IntN(3)), byte(r.IntN(6))}), []int{24, 16, 8, 31, 32}[r.IntN(5)])
		} else {
			op.Prefix = netip.PrefixFrom(netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 7: byte(r.IntN(3)), 15: byte(r.IntN(4))}), []int{64, 48, 128}[r.IntN(3)])
		}
		ops[i] = op
	}
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
