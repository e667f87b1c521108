package corpus

import (
	"github.com/routefuzz/routefuzz/internal/teststacks"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/routefuzz/routefuzz/check"
	"github.com/routefuzz/routefuzz/model"
	"github.com/routefuzz/routefuzz/sut/legacy"
)

func parseOps(t *testing.T, lines ...string) []model.Op {
	t.Helper()
	ops := make([]model.Op, len(lines))
	for i, l := range lines {
		op, err := model.ParseOp(l)
		if err != nil {
			t.Fatal(err)
		}
		ops[i] = op
	}
	return ops
}

func opLines(ops []model.Op) string {
	var b strings.Builder
	for _, op := range ops {
		b.WriteString(op.String())
		b.WriteByte('\n')
	}
	return b.String()
}

// simpleAddr reports whether a is one of 10.0.0.1 … 10.0.0.254 or
// 2001:db8::1 … 2001:db8::fffe, the addresses the minimizer prefers.
func simpleAddr(a netip.Addr) bool {
	if a.Is4() {
		return netip.MustParsePrefix("10.0.0.0/24").Contains(a) && a.As4()[3] != 0 && a.As4()[3] != 255
	}
	b := a.As16()
	return netip.MustParsePrefix("2001:db8::/112").Contains(a) && b[14]|b[15] != 0 && b[14]&b[15] != 0xff
}

// minimizeLegacy replays ops on legacy, which must diverge at the last op,
// and minimizes them to the same failure.
func minimizeLegacy(t *testing.T, cfg model.Config, ops []model.Op) (model.Config, []model.Op, int) {
	t.Helper()
	stack := legacy.New()
	d, err := check.Replay("legacy", stack, cfg, ops, nil)
	if err != nil || d == nil || len(d.Ops) != len(ops) {
		t.Fatalf("the order does not fail at its last op on legacy: %v %v\n%s", err, d, opLines(ops))
	}
	return Minimize(cfg, ops, SameFailureAs("legacy", stack, d))
}

// The 40-op order of TestMinimizeLegacyTo3Ops ends as KB287032 is written:
// plain /24 lengths and simple addresses.
func TestMinimizeLegacyToPlainKB(t *testing.T) {
	cfg := model.Config{Adapters: []string{"a0", "a1", "a2", "a3"}}
	ops := fortyOps(cfg)
	mcfg, min, tries := minimizeLegacy(t, cfg, ops)
	t.Logf("%d ops -> %d in %d tries (%s):\n%s", len(ops), len(min), tries, mcfg, check.FormatOps(min))
	if len(min) != 3 || min[0].Kind != model.Add || min[1].Kind != model.Add || min[2].Kind != model.Del ||
		min[0].Adapter != "a0" || min[1].Adapter != "a1" || min[2].Adapter != "a1" ||
		min[2].Prefix != min[1].Prefix || min[0].Prefix.Addr() == min[1].Prefix.Addr() {
		t.Fatalf("not the KB287032 shape:\n%s", opLines(min))
	}
	for _, op := range min {
		if op.Prefix.Bits() != 24 || !op.Prefix.Addr().Is4() || !simpleAddr(op.Prefix.Addr()) || op.Metric != 0 {
			t.Errorf("not simplified to a plain /24 with a simple address and no metric: %s", op)
		}
	}
	if strings.Join(mcfg.Adapters, " ") != "a0 a1" {
		t.Errorf("adapters %v, want a0 a1", mcfg.Adapters)
	}
}

// Two addresses of one /8 subnet move to /24 together: moving one alone
// would split the subnet the failure needs. Then the addresses move into
// 10.0.0.0/24 (or 2001:db8::/64) together, and then to the simplest.
func TestMinimizeLengthsOfASubnetTogether(t *testing.T) {
	for _, tc := range []struct {
		ops  []string
		want string
	}{
		{
			[]string{"add a0 10.1.0.255/8", "add a1 10.1.0.3/8", "del a1 10.1.0.3/8"},
			"add a0 10.0.0.1/24\nadd a1 10.0.0.2/24\ndel a1 10.0.0.2/24\n",
		},
		{
			[]string{"add a0 10.1.0.255/8", "add a1 10.2.7.3/8", "del a1 10.2.7.3/8"},
			"add a0 10.0.0.1/24\nadd a1 10.0.0.2/24\ndel a1 10.0.0.2/24\n",
		},
		{
			[]string{"add a0 2001:db8:0:1::ff/48", "add a1 2001:db8:0:2::3/48 metric 100", "del a1 2001:db8:0:2::3/48"},
			"add a0 2001:db8::1/64\nadd a1 2001:db8::2/64\ndel a1 2001:db8::2/64\n",
		},
	} {
		t.Run(tc.ops[0], func(t *testing.T) {
			cfg := model.Config{Adapters: []string{"a0", "a1"}}
			_, min, tries := minimizeLegacy(t, cfg, parseOps(t, tc.ops...))
			if got := opLines(min); got != tc.want {
				t.Fatalf("after %d tries got\n%swant\n%s", tries, got, tc.want)
			}
		})
	}

	// With a synthetic failure: a0 and a1 need one subnet, and a2 its /8,
	// so the lengths cannot all move at once; the subnet still does.
	ops := parseOps(t, "add a0 10.1.0.255/8", "add a1 10.1.0.3/8", "add a2 172.16.0.1/8")
	fails := func(_ model.Config, o []model.Op) bool {
		return len(o) == 3 && o[0].Adapter != o[1].Adapter && o[1].Adapter != o[2].Adapter && o[0].Adapter != o[2].Adapter &&
			o[0].Prefix.Addr() != o[1].Prefix.Addr() && o[0].Prefix.Masked() == o[1].Prefix.Masked() && o[2].Prefix.Bits() == 8
	}
	_, min, _ := Minimize(model.Config{Adapters: []string{"a0", "a1", "a2"}}, ops, fails)
	if min[0].Prefix.Bits() != 24 || min[1].Prefix.Bits() != 24 {
		t.Errorf("the subnet did not move to /24:\n%s", opLines(min))
	}
	if want := "add a0 10.0.0.1/24\nadd a1 10.0.0.2/24\nadd a2 10.0.0.3/8\n"; opLines(min) != want {
		t.Errorf("got\n%swant\n%s", opLines(min), want)
	}
}

// An accepted simplification is never undone by a later one: every order
// fails accepts keeps the metrics, lengths and addresses simplified in the
// orders accepted before it (a simple address may be renumbered, but stays
// simple), so independent simplifications all survive.
func TestMinimizeKeepsEverySimplification(t *testing.T) {
	ops := parseOps(t,
		"add a0 10.1.2.3/16 metric 5",
		"add a1 10.9.8.7/8 metric 7",
		"add a2 2001:db8:5::9/48 metric 9",
		"add a3 172.16.0.1/32 metric 100",
	)
	cfg := model.Config{Adapters: []string{"a0", "a1", "a2", "a3"}}
	// Four adds on four adapters fail, whatever the addresses.
	var accepted [][]model.Op
	fails := func(_ model.Config, o []model.Op) bool {
		if len(o) != 4 {
			return false
		}
		var ads []string
		for _, op := range o {
			if op.Kind != model.Add || slices.Contains(ads, op.Adapter) {
				return false
			}
			ads = append(ads, op.Adapter)
		}
		accepted = append(accepted, o)
		return true
	}
	_, min, tries := Minimize(cfg, ops, fails)
	want := "add a0 10.0.0.1/24\nadd a1 10.0.0.2/24\nadd a2 2001:db8::1/64\nadd a3 10.0.0.3/24\n"
	if got := opLines(min); got != want {
		t.Errorf("after %d tries got\n%swant\n%s", tries, got, want)
	}
	prev := ops
	for n, o := range accepted {
		for i := range o {
			p, q := prev[i], o[i]
			if p.Metric == 0 && q.Metric != 0 ||
				p.Prefix.Bits() == plainBits(p.Prefix.Addr()) && q.Prefix.Bits() != p.Prefix.Bits() ||
				simpleAddr(p.Prefix.Addr()) && !simpleAddr(q.Prefix.Addr()) {
				t.Errorf("accepted order %d undoes a simplification of op %d: %s became %s\nbefore:\n%safter:\n%s", n+1, i+1, p, q, opLines(prev), opLines(o))
			}
		}
		prev = o
	}
}

// However fails answers, Minimize ends, and every order it accepts is
// strictly simpler than the one before.
func TestMinimizeTerminates(t *testing.T) {
	cfg := model.Config{Adapters: []string{"a0", "a1", "a2", "a3"}}
	ops := fortyOps(cfg)

	// Everything fails: one op is left, as plain as it gets.
	mcfg, min, tries := Minimize(cfg, ops, func(model.Config, []model.Op) bool { return true })
	if len(min) != 1 || min[0].Adapter != "a0" || min[0].Prefix != netip.MustParsePrefix("10.0.0.1/24") || min[0].Metric != 0 ||
		strings.Join(mcfg.Adapters, " ") != "a0" {
		t.Fatalf("everything fails, yet got (%s):\n%s", mcfg, opLines(min))
	}
	if tries > 100 {
		t.Errorf("%d tries to minimize an order that always fails", tries)
	}
	t.Logf("always failing: %d tries to %s", tries, min[0])

	// Random answers, on IPv4 and IPv6 with metrics and odd lengths.
	for seed := range uint64(20) {
		r := rand.New(rand.NewPCG(seed, 1))
		var ops []model.Op
		for range 12 {
			p := netip.PrefixFrom(netip.AddrFrom4([4]byte{10, byte(r.IntN(3)), byte(r.IntN(3)), byte(r.IntN(256))}), []int{8, 16, 24, 31, 32}[r.IntN(5)])
			if r.IntN(3) == 0 {
				p = netip.PrefixFrom(netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 0, byte(r.IntN(3)), 0, byte(r.IntN(3)), 15: byte(r.IntN(256))}), []int{48, 64, 127, 128}[r.IntN(4)])
			}
			ops = append(ops, model.Op{Kind: model.OpKind(1 + r.IntN(2)), Adapter: cfg.Adapters[r.IntN(4)], Prefix: p, Metric: uint32(r.IntN(2) * 100)})
		}
		c, o := cfg, ops
		n := 0
		fails := func(c2 model.Config, o2 []model.Op) bool {
			if n++; n > 100_000 {
				t.Fatalf("seed %d: more than %d tries", seed, n-1)
			}
			if !costOf(c2, o2).less(costOf(c, o)) {
				t.Fatalf("seed %d: tried an order no simpler than the last accepted:\n%s\nafter\n%s", seed, opLines(o2), opLines(o))
			}
			if r.IntN(2) == 0 {
				return false
			}
			c, o = c2, o2
			return true
		}
		Minimize(cfg, ops, fails)
	}
}

// Addresses that share a prefix route fail only with equal metrics: the
// metrics must go to none together.
func TestMinimizeZeroesSharedMetricsTogether(t *testing.T) {
	cfg := model.Config{Adapters: []string{"a0"}}
	ops := []model.Op{model.MustParseOp("add a0 2001:db8::1/64 metric 200"), model.MustParseOp("add a0 2001:db8::2/64 metric 200")}
	fails := func(_ model.Config, o []model.Op) bool { return len(o) == 2 && o[0].Metric == o[1].Metric }
	_, min, _ := Minimize(cfg, ops, fails)
	for _, op := range min {
		if op.Metric != 0 {
			t.Fatalf("metric left behind:\n%s", check.FormatOps(min))
		}
	}
}

// Down and up are removed like any op, and ops without an address do not
// disturb the address passes.
func TestMinimizeRemovesDownUp(t *testing.T) {
	cfg := model.Config{Adapters: []string{"a0", "a1", "a2"}, KeepAddrOnDown: true}
	var ops []model.Op
	for _, l := range []string{"add a2 2001:db8:5::5/64", "down a2", "add a0 10.9.0.1/16 metric 100", "down a1",
		"add a1 10.9.0.2/16", "up a1", "down a2", "up a2", "down a0", "up a0", "del a1 10.9.0.2/16"} {
		ops = append(ops, model.MustParseOp(l))
	}
	_, min, _ := minimizeLegacy(t, cfg, ops)
	if len(min) != 3 || min[2].Kind != model.Del {
		t.Fatalf("minimized to:\n%s", opLines(min))
	}
	for _, op := range min {
		if op.Prefix.Bits() != 24 || !simpleAddr(op.Prefix.Addr()) || op.Metric != 0 {
			t.Errorf("not simplified: %s", op)
		}
	}
}

// keep_addr_on_down goes back to off when the failure does not need it:
// the KB287032 case is IPv4, which the setting does not touch.
func TestMinimizeDefaultsKeepAddrOnDown(t *testing.T) {
	cfg := model.Config{Adapters: []string{"a0", "a1"}, KeepAddrOnDown: true}
	ops := parseOps(t, "add a0 10.0.0.1/24", "add a1 10.0.0.2/24", "del a1 10.0.0.2/24")
	got, _, _ := minimizeLegacy(t, cfg, ops)
	if got.KeepAddrOnDown {
		t.Errorf("keep_addr_on_down stayed on: %s", got)
	}
}

// Lifecycle ops and the address attributes are simplified like the rest:
// carrier and change go when the failure does not need them, noprefixroute
// and lifetimes are dropped (a lifetime pair together, never leaving one
// half), and every candidate order is well formed.
func TestMinimizeLifecycleAttrs(t *testing.T) {
	cfg := model.Config{Adapters: []string{"a0", "a1"}}
	ops := parseOps(t,
		"add a0 10.0.0.1/24 noprefixroute valid_lft 900 preferred_lft 600",
		"carrier a1 off",
		"add a1 10.0.0.1/24 metric 5 valid_lft 700 preferred_lft 700",
		"change a0 10.0.0.1/24 valid_lft 600 preferred_lft 300",
		"carrier a1 on",
		"del a1 10.0.0.1/24")
	stack := legacy.New()
	d, err := check.Replay("legacy", stack, cfg, ops, nil)
	if err != nil || d == nil || len(d.Ops) != len(ops) {
		t.Fatalf("the order does not fail at its last op on legacy: %v %v", err, d)
	}
	same := SameFailureAs("legacy", stack, d)
	fails := func(c model.Config, o []model.Op) bool {
		for _, op := range o {
			if err := op.Validate(); err != nil {
				t.Fatalf("the minimizer tried an op that is not well formed: %v", err)
			}
		}
		return same(c, o)
	}
	_, min, _ := Minimize(cfg, ops, fails)
	if len(min) != 3 {
		t.Fatalf("minimized to:\n%s", opLines(min))
	}
	for _, op := range min {
		if op.Kind != model.Add && op.Kind != model.Del || op.Metric != 0 || op.NoPrefixRoute || op.ValidLft != 0 || op.PreferredLft != 0 {
			t.Errorf("not simplified: %s", op)
		}
	}
}

// A failing order with a gratuitous gateway, source, metric, destination
// and the address the source needs shrinks to the route alone: an
// address, a default route by its adapter, and the address's del, which
// flushes the route from the model's table and not from the stack's.
func TestMinimizeRouteOperands(t *testing.T) {
	cfg := model.Config{Adapters: []string{"a0", "a1", "a2"}}
	ops := parseOps(t,
		"add a2 10.1.0.7/16",
		"add a1 10.5.0.1/24 metric 100",
		"route add 198.51.100.0/24 via 10.1.0.9 dev a2 src 10.5.0.1 metric 100",
		"route add 2001:db8:99::/64 dev a1",
		"del a2 10.1.0.7/16",
	)
	stack := &teststacks.Stale{}
	d, err := check.Replay("stale", stack, cfg, ops, nil)
	if err != nil || d == nil || len(d.Ops) != len(ops) {
		t.Fatalf("the order does not fail at its last op: %v %v", err, d)
	}
	mcfg, min, tries := Minimize(cfg, ops, SameFailureAs("stale", stack, d))
	t.Logf("%d ops -> %d in %d tries (%s):\n%s", len(ops), len(min), tries, mcfg, check.FormatOps(min))
	want := "add a0 10.0.0.1/24\nroute add default dev a0\ndel a0 10.0.0.1/24\n"
	if got := opLines(min); got != want {
		t.Errorf("got\n%swant\n%s", got, want)
	}
}

// A gateway and a source that the failure needs stay, and move with the
// addresses they relate to: the gateway into the address's subnet, the
// source to the address it must be.
func TestMinimizeKeepsNeededRouteOperands(t *testing.T) {
	cfg := model.Config{Adapters: []string{"a0", "a1"}}
	ops := parseOps(t,
		"add a1 10.1.0.7/16",
		"route add 198.51.100.0/24 via 10.1.0.9 dev a1 src 10.1.0.7",
	)
	fails := func(c model.Config, o []model.Op) bool {
		st, err := model.New(c)
		if err != nil {
			return false
		}
		for _, op := range o {
			st.Apply(op)
		}
		for _, r := range st.UserRoutes() {
			if r.Via.IsValid() && r.Src.IsValid() {
				return true
			}
		}
		return false
	}
	_, min, _ := Minimize(cfg, ops, fails)
	want := "add a0 10.0.0.1/24\nroute add default via 10.0.0.2 dev a0 src 10.0.0.1\n"
	if got := opLines(min); got != want {
		t.Errorf("got\n%swant\n%s", got, want)
	}
}
