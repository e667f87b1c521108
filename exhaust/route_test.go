package exhaust

import (
	"github.com/routefuzz/routefuzz/internal/teststacks"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/routefuzz/routefuzz/model"
	"github.com/routefuzz/routefuzz/sut"
)

func addrs(ss ...string) []netip.Addr {
	var as []netip.Addr
	for _, s := range ss {
		as = append(as, netip.MustParseAddr(s))
	}
	return as
}

// routeUniverse has addresses, route ops with and without a gateway and a
// source, of both families.
func routeUniverse() Universe {
	return Universe{
		Config:   model.Config{Adapters: []string{"a0", "a1"}},
		Prefixes: prefixes("10.0.0.1/24"),
		Dsts:     prefixes("0.0.0.0/0", "198.51.100.0/24", "2001:db8:99::/64"),
		Gateways: addrs("10.0.0.9", "2001:db8:0:1::9"),
		Sources:  addrs("10.0.0.1"),
		Kinds:    []model.OpKind{model.Add, model.Del, model.RouteAdd, model.RouteDel},
		Values:   map[*model.Attr][]AttrValue{model.MetricAttr: {{Value: 100}}},
	}
}

// The route ops of a universe are every destination with each gateway
// and source of its family or none, on each adapter, with each metric;
// a del takes no source.
func TestRouteOpsCount(t *testing.T) {
	u := routeUniverse()
	if err := u.Validate(); err != nil {
		t.Fatal(err)
	}
	count := map[model.OpKind]int{}
	var ops []model.Op
	for _, op := range u.Ops(sut.All) {
		if err := op.Validate(); err != nil {
			t.Error(err)
		}
		if slices.Contains(ops, op) {
			t.Errorf("%s twice", op)
		}
		ops = append(ops, op)
		count[op.Kind]++
	}
	// route add: IPv4 2 dsts x (none, 10.0.0.9) x 2 adapters x (none,
	// 10.0.0.1) x 2 metrics = 32; IPv6 1 x 2 x 2 x 1 x 2 = 8.
	// route del: IPv4 2 x 2 x 2 x 2 = 16; IPv6 1 x 2 x 2 x 2 = 8.
	// add: 2 adapters x 1 prefix x 2 metrics; del: 2.
	want := map[model.OpKind]int{model.RouteAdd: 40, model.RouteDel: 24, model.Add: 4, model.Del: 2}
	for k, n := range want {
		if count[k] != n {
			t.Errorf("%d %s ops, want %d", count[k], k, n)
		}
	}
	for _, line := range []string{
		"route add default via 10.0.0.9 dev a1 src 10.0.0.1 metric 100",
		"route add 2001:db8:99::/64 via 2001:db8:0:1::9 dev a0",
		"route del 198.51.100.0/24 dev a0",
	} {
		if !slices.Contains(ops, model.MustParseOp(line)) {
			t.Errorf("no %q among the ops", line)
		}
	}
	// A stack that takes no metric gets none; one of IPv4 only, no IPv6
	// route.
	for _, op := range u.Ops(sut.Limits{IPv4: true}) {
		if op.Metric != 0 || !op.Prefix.Addr().Is4() {
			t.Errorf("%s: for an IPv4 stack without metrics", op)
		}
	}
	// The universe of a case holds its route operands.
	v := FromOps(u.Config, []model.Op{model.MustParseOp("route add default via 10.0.0.9 dev a0 src 10.0.0.1"), model.MustParseOp("route del 2001:db8:99::/64 dev a1")})
	if got, want := v.String(), "adapters=a0,a1 promote=off prefixes= dsts=0.0.0.0/0,2001:db8:99::/64 gateways=10.0.0.9 sources=10.0.0.1 kinds=route add,route del"; got != want {
		t.Errorf("FromOps: %s\nwant      %s", got, want)
	}
}

// The search finds the seeded route bug at its shortest, three ops: an
// address, a route on its adapter, and the address's del, which flushes
// the route from the model's table but not from the stack's. Symmetry
// and pruning find the same length.
func TestExhaustFindsStaleRoute(t *testing.T) {
	u := routeUniverse()
	for _, o := range []Options{{Depth: 3}, {Depth: 3, Symmetry: true, Prune: PruneFailures}} {
		r, err := Search("stale", &teststacks.Stale{}, u, o)
		if err != nil {
			t.Fatal(err)
		}
		logResult(t, r)
		d := r.Divergence
		if d == nil || r.Flaky {
			t.Fatalf("%+v: no divergence up to 3 ops", o)
		}
		if len(d.Ops) != 3 || d.Ops[0].Kind != model.Add || d.Ops[1].Kind != model.RouteAdd || d.Ops[2].Kind != model.Del {
			t.Errorf("%+v: shortest divergence:\n%s", o, d.Report())
		}
	}
}

// Addresses that route ops name are never renamed; the lengths of the
// route destinations split classes.
func TestAddressClassesWithRoutes(t *testing.T) {
	u := Universe{Config: model.Config{Adapters: []string{"a0"}}, Prefixes: prefixes("10.0.0.1/24", "10.0.0.2/24", "10.0.0.3/24", "10.0.0.200/24")}
	if got := len(AddressClasses(u)); got != 1 || len(AddressClasses(u)[0]) != 4 {
		t.Fatalf("classes %v", AddressClasses(u))
	}
	u.Sources = addrs("10.0.0.3")
	u.Dsts = prefixes("10.0.0.0/25")
	classes := AddressClasses(u)
	if len(classes) != 1 || !slices.Equal(classes[0], addrs("10.0.0.1", "10.0.0.2")) {
		t.Errorf("with a source and a route to 10.0.0.0/25: classes %v, want [[10.0.0.1 10.0.0.2]]", classes)
	}
}

func TestUniverseValidateRoutes(t *testing.T) {
	for _, tc := range []struct {
		u   Universe
		msg string
	}{
		{Universe{Dsts: prefixes("0.0.0.0/0", "0.0.0.0/0")}, "destination 0.0.0.0/0 is given twice"},
		{Universe{Dsts: prefixes("10.0.0.1/24")}, "destination 10.0.0.1/24 has host bits set (want 10.0.0.0/24)"},
		{Universe{Dsts: prefixes("0.0.0.0/0"), Gateways: addrs("10.0.0.9", "10.0.0.9")}, "gateway 10.0.0.9 is given twice"},
		{Universe{Dsts: prefixes("0.0.0.0/0"), Sources: addrs("224.0.0.1")}, "source 224.0.0.1 is not a unicast address"},
		{Universe{Dsts: prefixes("0.0.0.0/0"), Gateways: addrs("2001:db8::9")}, "gateway 2001:db8::9 is of a family no destination is"},
		{Universe{Kinds: []model.OpKind{model.RouteAdd}}, "route add takes a destination, and the universe has none"},
		{Universe{Kinds: []model.OpKind{model.Add}}, "add takes an adapter, and the universe has none"},
	} {
		if err := tc.u.Validate(); err == nil || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("Validate() = %v; want an error containing %q", err, tc.msg)
		}
	}
	if err := routeUniverse().Validate(); err != nil {
		t.Error(err)
	}
}
