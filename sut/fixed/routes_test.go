package fixed_test

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/routefuzz/routefuzz/check"
	"github.com/routefuzz/routefuzz/internal/pools"
	"github.com/routefuzz/routefuzz/internal/routerules"
	"github.com/routefuzz/routefuzz/model"
	"github.com/routefuzz/routefuzz/sut"
	"github.com/routefuzz/routefuzz/sut/fixed"
	"github.com/routefuzz/routefuzz/sut/legacy"
)

type routeCase struct {
	name          string
	promote, keep bool
	ops           string
}

// routeCases are op sequences that exercise every rule of user routes,
// longer than internal/routerules' (which TestRouteCases replays too):
// each rule's sequence run on past it, and a few more on the events that
// touch user routes.
var routeCases = []routeCase{
	{name: "forms", ops: `add a0 10.1.0.1/24
add a0 2001:db8:1::1/64
route add 192.0.2.0/24 dev a0
route add 198.51.100.0/24 via 10.1.0.9 dev a0
route add default via 10.1.0.254 dev a0
route add 203.0.113.0/24 dev a0 src 10.1.0.1 metric 10
route add 2001:db8:99::/64 dev a0
route add default via 2001:db8:1::fe dev a0`},
	{name: "del of a route with src", ops: `add a0 10.1.0.1/24
add a0 2001:db8:1::1/64
route add 203.0.113.0/24 dev a0 src 10.1.0.1 metric 10
route add 2001:db8:97::/64 dev a0 src 2001:db8:1::1
route del 203.0.113.0/24 dev a0 metric 10
route del 2001:db8:97::/64 dev a0`},
	{name: "last IPv4 address", ops: `add a0 10.1.0.1/24
add a0 10.3.0.1/24
add a0 2001:db8:1::1/64
route add 192.0.2.0/24 dev a0
route add 198.51.100.0/24 via 10.1.0.9 dev a0
route add 2001:db8:99::/64 dev a0
del a0 10.1.0.1/24
del a0 10.3.0.1/24
del a0 2001:db8:1::1/64`},
	{name: "src held by another adapter", ops: `add a0 10.1.0.1/24
add a1 10.2.0.1/24
add a1 10.1.0.1/24
route add 203.0.113.0/24 dev a1 src 10.1.0.1
add a0 2001:db8:1::1/64
add a1 2001:db8:1::1/64
route add 2001:db8:90::/64 dev a1 src 2001:db8:1::1
del a0 10.1.0.1/24
del a0 2001:db8:1::1/64
del a1 10.1.0.1/24
del a1 2001:db8:1::1/64`},
	{name: "src gone", ops: `add a0 10.1.0.1/24
add a0 10.3.0.1/24
add a1 10.2.0.1/24
route add 203.0.113.0/24 dev a1 src 10.1.0.1
add a0 2001:db8:1::1/64
add a1 2001:db8:2::1/64
route add 2001:db8:90::/64 dev a1 src 2001:db8:1::1
del a0 10.1.0.1/24
del a0 2001:db8:1::1/64
add a0 2001:db8:1::1/64`},
	{name: "secondaries flushed with their primary take their src routes", ops: `add a0 10.1.0.1/24
add a0 10.1.0.2/24
add a1 10.2.0.1/24
route add 203.0.113.0/24 dev a1 src 10.1.0.2
del a0 10.1.0.1/24`},
	{name: "down flushes, up does not restore", keep: true, ops: `add a0 10.1.0.1/24
add a0 2001:db8:1::1/64
add a1 10.2.0.1/24
route add 192.0.2.0/24 dev a0
route add 2001:db8:99::/64 dev a0
route add 203.0.113.0/24 dev a1 src 10.1.0.1
route add 2001:db8:98::/64 dev a1 src 2001:db8:1::1
down a0
up a0
route add 2001:db8:97::/64 dev a1 src 2001:db8:1::1`},
	{name: "down flushes IPv6 src", ops: `add a0 2001:db8:1::1/64
add a1 2001:db8:2::1/64
route add 2001:db8:97::/64 dev a1 src 2001:db8:1::1
down a0
route add 2001:db8:96::/64 dev a1 src 2001:db8:1::1`},
	{name: "carrier", ops: `add a0 10.1.0.1/24
route add 192.0.2.0/24 dev a0
carrier a0 off
route add 198.51.100.0/24 via 10.1.0.9 dev a0
down a0
carrier a0 on
up a0
carrier a0 off
add a0 2001:db8:1::1/64
route add 2001:db8:99::/64 via 2001:db8:1::9 dev a0
carrier a0 on`},
	{name: "unplug", ops: `add a0 10.3.0.1/24
add a0 2001:db8:3::1/64
add a1 10.2.0.1/24
route add 203.0.114.0/24 via 10.3.0.9 dev a0
route add 203.0.113.0/24 dev a1 src 10.3.0.1
route add 2001:db8:96::/64 dev a1 src 2001:db8:3::1
unplug a0
route add 192.0.2.0/24 dev a0
route del 203.0.114.0/24 via 10.3.0.9 dev a0
plug a0
route add 192.0.2.0/24 dev a0`},
	{name: "promotion", promote: true, ops: `add a0 10.1.0.1/24
add a0 10.1.0.2/24
add a0 10.1.0.3/24
add a1 10.2.0.1/24
route add 192.0.2.0/24 dev a0
route add 203.0.113.0/24 dev a1 src 10.1.0.1
route add 203.0.114.0/24 dev a0 src 10.1.0.2
del a0 10.1.0.1/24
del a0 10.1.0.2/24`},
	{name: "source: gateway's subnet, promoted primary last", promote: true, ops: `add a0 10.1.0.1/24
add a0 10.1.0.2/24
add a0 10.5.0.1/24
route add 192.0.2.0/24 dev a0
route add 198.51.99.0/24 via 10.5.0.9 dev a0
route add 198.51.98.0/24 via 10.1.0.9 dev a0
del a0 10.1.0.1/24`},
	{name: "source: another adapter's, in creation order", ops: `add a1 10.2.0.1/24
add a2 10.3.0.1/24
route add 192.0.2.0/24 dev a0
del a1 10.2.0.1/24`},
	{name: "source: re-plugged adapter is last", ops: `unplug a1
plug a1
add a1 10.2.0.1/24
add a2 10.3.0.1/24
route add 192.0.2.0/24 dev a0`},
	{name: "IPv4 user route and kernel route of one key", ops: `add a1 10.2.0.1/24
route add 10.1.0.0/24 dev a1
add a0 10.1.0.1/24
route add 10.1.0.0/24 dev a2
del a0 10.1.0.1/24`},
	{name: "IPv6 user route and prefix route of one key", ops: `add a1 2001:db8:2::1/64
route add 2001:db8:1::/64 dev a0 metric 256
add a0 2001:db8:1::1/64
route add 2001:db8:1::/64 dev a1 metric 256
del a0 2001:db8:1::1/64`},
	{name: "gateway on link by a user's dev route", ops: `add a0 10.1.0.1/24
route add 192.0.2.0/24 dev a0
route add 198.51.100.0/24 via 192.0.2.5 dev a0
route add 198.51.101.0/24 via 198.51.100.7 dev a0
add a0 2001:db8:1::1/64
route add default dev a0 metric 5
route add 2001:db8:50::/64 via 2001:db8:77::1 dev a0`},
	{name: "IPv4 gateway that is the adapter's own address: lookups go on link", ops: `add a0 10.1.0.1/24
add a1 10.2.0.1/24
route add 198.51.100.0/24 via 10.1.0.1 dev a0
route add 198.51.101.0/24 via 10.1.0.9 dev a0
add a0 10.1.0.9/24
add a0 10.3.0.1/24
route add 198.51.102.0/24 via 10.3.0.1 dev a0 src 10.2.0.1
del a0 10.3.0.1/24
route del 198.51.100.0/24 via 10.1.0.1 dev a0
route add 198.51.100.0/24 via 10.1.0.9 dev a0`},
	{name: "local table first", ops: `add a0 10.1.0.1/24
add a1 10.2.0.1/24
route add 10.1.0.1/32 dev a1
route add 10.1.0.255/32 dev a1
add a0 2001:db8:1::1/64
route add 2001:db8:1::1/128 dev a1`},
	{name: "IPv6 gateway behind a longer gateway route", ops: `add a0 2001:db8:1::1/64
route add 2001:db8:40::/64 dev a0
route add 2001:db8:40::/96 via 2001:db8:1::9 dev a0
route add 2001:db8:41::/64 via 2001:db8:40::5 dev a0
route add 2001:db8:42::/64 via 2001:db8:40:0:1::5 dev a0`},
	{name: "gateway on a down adapter, own address", ops: `add a1 10.2.0.1/24
down a1
route add 192.0.2.0/24 via 10.2.0.9 dev a1
route add 192.0.2.0/24 via 10.2.0.1 dev a1
route add 192.0.2.0/24 dev a1 src 10.9.9.9`},
	{name: "errors", ops: `add a0 10.1.0.1/24
add a0 2001:db8:1::1/64
add a1 10.2.0.1/24
add a1 2001:db8:2::1/64
route add 198.51.100.0/24 via 10.9.0.1 dev a0
route add 198.51.100.0/24 via 10.2.0.9 dev a0
route add 198.51.100.0/24 via 10.1.0.255 dev a0
route add 198.51.100.0/24 via 10.1.0.1 dev a0
route add 2001:db8:98::/64 via 2001:db8:9::1 dev a0
route add 2001:db8:98::/64 via 2001:db8:1::1 dev a0
route add 2001:db8:98::/64 via 2001:db8:2::1 dev a0
route add 203.0.113.0/24 dev a0 src 10.1.0.77
route add 203.0.113.0/24 dev a0 src 10.2.0.1
route add 2001:db8:97::/64 dev a0 src 2001:db8:1::77
route add 192.0.2.0/24 dev a0
route add 192.0.2.0/24 dev a1
route add 192.0.2.0/24 dev a1 metric 3
route add 10.1.0.0/24 dev a0
route add 10.1.0.0/24 dev a0 metric 9
route add 2001:db8:1::/64 dev a0 metric 256
route add 2001:db8:99::/64 dev a0
route add 2001:db8:99::/64 dev a0 metric 1024
route add 2001:db8:99::/64 dev a0 metric 0
route add 192.0.2.0/24 dev x9
route del 192.0.2.0/24 dev x9
route del 10.1.0.0/24 dev a0
route del 192.0.2.0/24 dev a0 metric 3
route del 192.0.2.0/24 via 10.1.0.9 dev a0
route del 198.51.100.0/24 via 10.1.0.1 dev a0
route del 2001:db8:99::/64 dev a0 metric 1024
route del 2001:db8:99::/64 dev a0
route add 0.0.0.0/8 via 10.1.0.9 dev a0
route add 10.0.0.0/8 via 2001:db8::1 dev a0
route add 10.0.0.0/8 via 224.0.0.1 dev a0`},
}

// step applies op to run and fails on a divergence or an error.
func step(t *testing.T, run *check.Run, op model.Op) {
	t.Helper()
	d, err := run.Step(op)
	if err != nil {
		t.Fatalf("%s: %v", op, err)
	}
	if d != nil {
		t.Fatalf("%s", d.Report())
	}
}

// Fixed agrees with the model after every op of each case (results,
// routes, addresses and lookups), in each setting.
func TestRouteCases(t *testing.T) {
	cases := slices.Clone(routeCases)
	for _, r := range routerules.Sequences {
		cases = append(cases, routeCase{"rule: " + r.Name, r.Promote, r.KeepAddrOnDown, r.Ops})
	}
	for _, r := range routerules.Results {
		cases = append(cases, routeCase{"result: " + r.Op, false, false, strings.TrimSpace(routerules.ResultSetup + r.Ops + "\n" + r.Op)})
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := model.Config{Adapters: []string{"a0", "a1", "a2"}, Promote: tc.promote, KeepAddrOnDown: tc.keep}
			run, d, err := check.Start("fixed", fixed.New(), cfg, nil)
			if d != nil || err != nil {
				t.Fatal(d, err)
			}
			for _, line := range strings.Split(tc.ops, "\n") {
				if strings.TrimSpace(line) != "" {
					step(t, run, model.MustParseOp(line))
				}
			}
		})
	}
}

// routeGen draws op sequences biased toward what user routes depend on:
// the address pools' subnets as route destinations, gateways in them,
// sources that are addresses, and deletes of the user routes there are.
// It is a stand-in for the props generator, for testing fixed alone.
type routeGen struct {
	r        *rand.Rand
	adapters []string
}

func (g *routeGen) pick(n int) int { return g.r.IntN(n) }

func (g *routeGen) adapter() string { return g.adapters[g.pick(len(g.adapters))] }

func (g *routeGen) addr(v4 bool) netip.Prefix {
	if v4 {
		b := pools.V4Nets[g.pick(3)].As4()
		b[3] = pools.V4Hosts[g.pick(len(pools.V4Hosts))]
		return netip.PrefixFrom(netip.AddrFrom4(b), pools.V4Lengths[g.pick(len(pools.V4Lengths))])
	}
	b := pools.V6Nets[g.pick(len(pools.V6Nets))].As16()
	b[15] = pools.V6Hosts[g.pick(len(pools.V6Hosts))]
	return netip.PrefixFrom(netip.AddrFrom16(b), pools.V6Lengths[g.pick(len(pools.V6Lengths))])
}

func (g *routeGen) gateway(v4 bool) netip.Addr {
	h := pools.GatewayHosts[g.pick(len(pools.GatewayHosts))]
	if v4 {
		b := pools.V4GatewayNets[g.pick(len(pools.V4GatewayNets))].As4()
		b[3] = h
		return netip.AddrFrom4(b)
	}
	b := pools.V6GatewayNets[g.pick(len(pools.V6GatewayNets))].As16()
	b[15] = h
	return netip.AddrFrom16(b)
}

func (g *routeGen) metric() uint32 { return []uint32{0, 0, 100, 256, 1024}[g.pick(5)] }

func (g *routeGen) op(st *model.State) model.Op {
	v4 := g.pick(3) < 2
	switch k := g.pick(20); {
	case k < 5:
		op := model.Op{Kind: model.Add, Adapter: g.adapter(), Prefix: g.addr(v4)}
		if g.pick(3) == 0 {
			op.Metric = g.metric()
		}
		return op
	case k < 7:
		if as := st.Addrs(); len(as) > 0 {
			a := as[g.pick(len(as))]
			return model.Op{Kind: model.Del, Adapter: a.Adapter, Prefix: a.Prefix}
		}
		return model.Op{Kind: model.Del, Adapter: g.adapter(), Prefix: g.addr(v4)}
	case k < 8:
		return model.Op{Kind: []model.OpKind{model.Down, model.Up, model.Unplug, model.Plug}[g.pick(4)], Adapter: g.adapter()}
	case k < 9:
		return model.Op{Kind: model.Carrier, Adapter: g.adapter(), On: g.pick(2) == 0}
	case k < 10:
		if as := st.Addrs(); len(as) > 0 {
			a := as[g.pick(len(as))]
			return model.Op{Kind: model.Change, Adapter: a.Adapter, Prefix: a.Prefix, Metric: g.metric(), NoPrefixRoute: g.pick(4) == 0}
		}
		return model.Op{Kind: model.Up, Adapter: g.adapter()}
	case k < 12:
		if us := st.UserRoutes(); len(us) > 0 && g.pick(4) > 0 {
			return model.DelOf(us[g.pick(len(us))])
		}
		op := g.route(st, v4)
		return model.Op{Kind: model.RouteDel, Adapter: op.Adapter, Prefix: op.Prefix, Via: op.Via, Metric: op.Metric}
	default:
		return g.route(st, v4)
	}
}

func (g *routeGen) route(st *model.State, v4 bool) model.Op {
	op := model.Op{Kind: model.RouteAdd, Adapter: g.adapter()}
	if v4 {
		op.Prefix = pools.V4RouteDsts[g.pick(len(pools.V4RouteDsts))]
	} else {
		op.Prefix = pools.V6RouteDsts[g.pick(len(pools.V6RouteDsts))]
	}
	if g.pick(2) == 0 {
		op.Via = g.gateway(v4)
	}
	if g.pick(3) == 0 {
		var srcs []netip.Addr
		for _, a := range st.Addrs() {
			if a.Prefix.Addr().Is4() == v4 {
				srcs = append(srcs, a.Prefix.Addr())
			}
		}
		if len(srcs) > 0 && g.pick(4) > 0 {
			op.Src = srcs[g.pick(len(srcs))]
		} else {
			op.Src = g.addr(v4).Addr()
		}
	}
	if g.pick(3) == 0 {
		op.Metric = g.metric()
	}
	return op
}

// kb287032 reports whether op can trigger legacy's bug: a del of an
// address whose subnet another adapter also has an address in (as
// sut/legacy's TestOnlyKB287032 says).
func kb287032(st *model.State, op model.Op) bool {
	return op.Kind == model.Del && slices.ContainsFunc(st.Addrs(), func(a model.Addr) bool {
		return a.Adapter != op.Adapter && a.Prefix.Masked() == op.Prefix.Masked()
	})
}

// Fixed agrees with the model over sequences drawn by routeGen, in every
// setting, with every route result seen; so does legacy, with the dels
// that can trigger KB287032 left out: its user routes are fixed's.
func TestRoutesAgreeLocalGen(t *testing.T) {
	seqs, length := 600, 40
	if testing.Short() {
		seqs = 100
	}
	for _, stack := range []struct {
		name    string
		s       sut.Stack
		exclude func(*model.State, model.Op) bool
		seqs    int
	}{
		{"fixed", fixed.New(), nil, seqs},
		{"legacy", legacy.New(), kb287032, seqs / 2},
	} {
		for _, promote := range []bool{false, true} {
			for _, keep := range []bool{false, true} {
				t.Run(fmt.Sprintf("%s/promote=%v/keep_addr_on_down=%v", stack.name, promote, keep), func(t *testing.T) {
					cfg := model.Config{Adapters: []string{"a0", "a1", "a2"}, Promote: promote, KeepAddrOnDown: keep}
					g := &routeGen{r: rand.New(rand.NewPCG(10, 287032)), adapters: cfg.Adapters}
					results := map[model.OpKind]map[model.Result]int{model.RouteAdd: {}, model.RouteDel: {}}
					steps := 0
					for range stack.seqs {
						run, d, err := check.Start(stack.name, stack.s, cfg, nil)
						if d != nil || err != nil {
							t.Fatal(d, err)
						}
						for range length {
							op := g.op(run.Model())
							if stack.exclude != nil && stack.exclude(run.Model(), op) {
								continue
							}
							step(t, run, op)
							steps++
							if results[op.Kind] != nil {
								results[op.Kind][run.ModelResult()]++
							}
						}
					}
					for _, r := range []model.Result{model.OK, model.Exists, model.Invalid, model.GatewayUnreachable, model.BadSource, model.NetDown} {
						if results[model.RouteAdd][r] == 0 {
							t.Errorf("route add never gave %s", r)
						}
					}
					for _, r := range []model.Result{model.OK, model.NotFound} {
						if results[model.RouteDel][r] == 0 {
							t.Errorf("route del never gave %s", r)
						}
					}
					t.Logf("%d steps agree; route results: %v", steps, results)
				})
			}
		}
	}
}
