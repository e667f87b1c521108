package examples_test

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"testing"

	"github.com/routefuzz/routefuzz/check"
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
	ops := benchOps()
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

// benchOps draws the ops the check package's BenchmarkFixedStep uses:
// adds and deletes of IPv4 and IPv6 addresses on three adapters, from a
// fixed seed.
func benchOps() []model.Op {
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
	return ops
}
