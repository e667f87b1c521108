package corpus

import (
	"net/netip"
	"slices"

	"github.com/routefuzz/routefuzz/check"
	"github.com/routefuzz/routefuzz/model"
	"github.com/routefuzz/routefuzz/sut"
)

// Minimize shrinks a failing order of ops outside rapid: for a failure found
// by go test -fuzz, by another tool or by hand. fails reports whether an
// order still fails; it must hold for the input. Minimize removes chunks of
// ops (delta debugging), then single ops, then simplifies what is left:
// metrics to none, prefix lengths to /24 or /64, adapters merged into
// earlier ones and renamed a0, a1, … in order of first use. It repeats
// until nothing changes, and returns the result with the number of orders
// it tried.
func Minimize(cfg model.Config, ops []model.Op, fails func(model.Config, []model.Op) bool) (model.Config, []model.Op, int) {
	tries := 0
	try := func(c model.Config, o []model.Op) bool {
		tries++
		return fails(c, o)
	}
	for changed := true; changed; {
		changed = false
		if o := ddmin(cfg, ops, try); len(o) < len(ops) {
			ops, changed = o, true
		}
		for _, simplify := range []func(model.Config, []model.Op) []candidate{zeroMetrics, plainLengths, mergeAdapters} {
			for _, c := range simplify(cfg, ops) {
				if try(c.cfg, c.ops) {
					cfg, ops, changed = c.cfg, c.ops, true
				}
			}
		}
		if c, o := Canonical(cfg, ops); (!slices.Equal(o, ops) || !slices.Equal(c.Adapters, cfg.Adapters)) && try(c, o) {
			cfg, ops, changed = c, o, true
		}
	}
	return cfg, ops, tries
}

// ddmin removes chunks of ops while the order still fails, halving the
// chunk size down to single ops.
func ddmin(cfg model.Config, ops []model.Op, fails func(model.Config, []model.Op) bool) []model.Op {
	n := 2
	for len(ops) >= 2 {
		size := (len(ops) + n - 1) / n
		reduced := false
		for start := 0; start < len(ops); start += size {
			rest := slices.Concat(ops[:start], ops[min(start+size, len(ops)):])
			if len(rest) > 0 && fails(cfg, rest) {
				ops, n, reduced = rest, max(n-1, 2), true
				break
			}
		}
		if reduced {
			continue
		}
		if size == 1 {
			break
		}
		n = min(2*n, len(ops))
	}
	return ops
}

type candidate struct {
	cfg model.Config
	ops []model.Op
}

func zeroMetrics(cfg model.Config, ops []model.Op) []candidate {
	var cs []candidate
	for i, op := range ops {
		if op.Metric != 0 {
			o := slices.Clone(ops)
			o[i].Metric = 0
			cs = append(cs, candidate{cfg, o})
		}
	}
	return cs
}

// plainLengths tries, for each prefix the ops use, the family's plainest
// length (/24, /64) in every op that uses it.
func plainLengths(cfg model.Config, ops []model.Op) []candidate {
	var cs []candidate
	var done []netip.Prefix
	for _, op := range ops {
		p := op.Prefix
		plain := 64
		if p.Addr().Is4() {
			plain = 24
		}
		if !p.IsValid() || p.Bits() == plain || slices.Contains(done, p) {
			continue
		}
		done = append(done, p)
		q := netip.PrefixFrom(p.Addr(), plain)
		o := slices.Clone(ops)
		for i := range o {
			if o[i].Prefix == p {
				o[i].Prefix = q
			}
		}
		cs = append(cs, candidate{cfg, o})
	}
	return cs
}

// mergeAdapters tries moving every op of a later adapter onto an earlier one.
func mergeAdapters(cfg model.Config, ops []model.Op) []candidate {
	var cs []candidate
	for j, to := range cfg.Adapters {
		for _, from := range cfg.Adapters[j+1:] {
			if !slices.ContainsFunc(ops, func(op model.Op) bool { return op.Adapter == from }) {
				continue
			}
			o := slices.Clone(ops)
			for i := range o {
				if o[i].Adapter == from {
					o[i].Adapter = to
				}
			}
			cs = append(cs, candidate{cfg, o})
		}
	}
	return cs
}

// SameFailure returns a fails function for Minimize: an order fails when
// it makes stack diverge from the model in the same aspects (result,
// routes, addresses) as want. Harness errors do not count as failing.
func SameFailure(name string, stack sut.Stack, want check.Aspect) func(model.Config, []model.Op) bool {
	return func(cfg model.Config, ops []model.Op) bool {
		d, err := check.Replay(name, stack, cfg, ops, nil)
		return err == nil && d != nil && d.Aspects() == want
	}
}
