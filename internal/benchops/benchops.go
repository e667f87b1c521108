// Package benchops draws the fixed operation sequences that the
// benchmarks share, so that their figures compare like with like. It
// names add and del on purpose, not the op alphabet: the workload stays
// the same when kinds are added, so figures compare across versions.
package benchops

import (
	"fmt"
	"math/rand/v2"
	"net/netip"

	"github.com/routefuzz/routefuzz/model"
)

// Ops returns count adds and deletes (two in three adds) of IPv4 and IPv6
// addresses (two in three IPv4) on adapters a0..a(adapters-1), drawn from
// a few shared subnets the way the state machine draws them, from seed.
func Ops(adapters, count int, seed uint64) []model.Op {
	r := rand.New(rand.NewPCG(seed, 1))
	ops := make([]model.Op, count)
	for i := range ops {
		op := model.Op{Kind: model.Add, Adapter: fmt.Sprintf("a%d", r.IntN(adapters))}
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
