package bytefuzz

import (
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/routefuzz/routefuzz/model"
	"github.com/routefuzz/routefuzz/sut"
)

// The encoding is stable: these inputs decode to these ops (a change here
// is a new Encoding, and saved inputs decode differently).
func TestDecodeGolden(t *testing.T) {
	for _, tc := range []struct {
		in   []byte
		cfg  string
		want []string
	}{
		{nil, "adapters=a0,a1 promote=off", nil},
		// KB287032's order: header, add a1, add a0, del (K=20; zeros
		// past the end: the first present address at or after a0
		// 10.0.0.1/24).
		{[]byte{0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 20}, "adapters=a0,a1 promote=off", []string{
			"add a1 10.0.0.1/24", "add a0 10.0.0.1/24", "del a0 10.0.0.1/24"}},
		// Three adapters, promote on; add with metric 100 (V=1), IPv6
		// (P=2), host ::2 at /48 (Q=1+4); an add on no adapter (A=255).
		{[]byte{5, 0, 2, 2, 5, 1, 0, 255, 3, 0, 0}, "adapters=a0,a1,a2 promote=on", []string{
			"add a2 2001:db8:0:1::2/48 metric 100", "add x3 10.0.1.1/24"}},
		// Attributes: V = 1 + 4*2 + 12*2: metric 100, noprefixroute,
		// lifetimes 600/300.
		{[]byte{1, 0, 0, 0, 0, 33}, "adapters=a0,a1,a2 promote=off", []string{
			"add a0 10.0.0.1/24 metric 100 noprefixroute valid_lft 600 preferred_lft 300"}},
		// Route ops (K=80 route add, K=95 route del): the default
		// route, all zeros; then D=3 (198.51.100.0/24), G=1 (the
		// first IPv4 gateway), A=0, S=1 (the first IPv4 source),
		// V=1 (metric 100); then a del of a present route (A=0 < 128,
		// the first user route at or after the default route).
		{[]byte{0, 0, 0, 0, 0, 0, 80, 0, 0, 0, 0, 0, 80, 3, 1, 0, 1, 1, 95, 0, 0, 0, 0}, "adapters=a0,a1 promote=off", []string{
			"add a0 10.0.0.1/24", "route add default dev a0",
			"route add 198.51.100.0/24 via 10.0.0.9 dev a0 src 10.0.0.1 metric 100",
			"route del default dev a0"}},
		// IPv6 (D=2, 5): the gateway and source follow the
		// destination's family; a del drawn as it is (A=200 >= 128).
		{[]byte{0, 80, 2, 4, 1, 16, 0, 95, 5, 0, 200, 0}, "adapters=a0,a1 promote=off", []string{
			"route add default via 2001:db8:0:2::9 dev a1 src 2001:db8:0:1::3",
			"route del 2001:db8:99::/64 dev a0"}},
		// A present IPv6 route added without a metric is deleted by the
		// metric the table shows (model.IPv6RouteMetric).
		{[]byte{0, 80, 5, 0, 0, 0, 0, 95, 0, 0, 0, 0}, "adapters=a0,a1 promote=off", []string{
			"route add 2001:db8:99::/64 dev a0", "route del 2001:db8:99::/64 dev a0 metric 1024"}},
	} {
		cfg, ops, err := Decode(tc.in, sut.All)
		require.NoError(t, err)
		require.Equal(t, tc.cfg, cfg.String(), "% x", tc.in)
		var got []string
		for _, op := range ops {
			got = append(got, op.String())
		}
		require.Equal(t, tc.want, got, "% x", tc.in)
	}
}

// Any input decodes to a valid configuration and valid ops the stack
// takes, the same each time.
func TestDecodeAnyInput(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	limits := []sut.Limits{sut.All,
		{IPv6: true, Attrs: []string{"metrics"}, Ops: []model.OpKind{model.Add, model.Del}, Promote: []bool{false}},
		{IPv4: true, KeepAddrOnDown: []bool{true}}}
	for i := range 3000 {
		b := make([]byte, r.IntN(300))
		for j := range b {
			b[j] = byte(r.Uint32())
		}
		l := limits[i%len(limits)]
		checkDecode(t, b, l)
	}
}

func checkDecode(t *testing.T, b []byte, l sut.Limits) {
	cfg, ops, err := Decode(b, l)
	require.NoError(t, err)
	require.NoError(t, cfg.Validate())
	require.NotEmpty(t, cfg.Adapters)
	require.LessOrEqual(t, len(ops), MaxOps)
	if len(l.Promote) == 1 {
		require.Equal(t, l.Promote[0], cfg.Promote)
	}
	if len(l.KeepAddrOnDown) == 1 {
		require.Equal(t, l.KeepAddrOnDown[0], cfg.KeepAddrOnDown)
	}
	for _, op := range ops {
		require.NoError(t, op.Validate(), "%s", op)
		require.Empty(t, l.Unsupported(op), "%s", op)
	}
	cfg2, ops2, _ := Decode(b, l)
	require.Equal(t, cfg, cfg2)
	require.Equal(t, ops, ops2)
}

// FuzzDecode: any input decodes to valid ops (go test -fuzz FuzzDecode).
func FuzzDecode(f *testing.F) {
	for _, s := range Seeds()[:20] {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) { checkDecode(t, b, sut.All) })
}

// The decoder draws every kind of the alphabet, through the alphabet: each
// action as often, kinds in an action by Share.
func TestKindsFromAlphabet(t *testing.T) {
	table := Kinds(sut.All)
	for _, sp := range model.Alphabet {
		if sp.Declared {
			// Only for a stack that declares it (hold).
			require.NotContains(t, table, sp.Kind, sp.Name)
			require.Contains(t, Kinds(sut.Limits{Ops: []model.OpKind{model.Add, sp.Kind}}), sp.Kind, sp.Name)
			continue
		}
		require.Contains(t, table, sp.Kind, sp.Name)
	}
	count := func(k model.OpKind) int {
		return len(slices.DeleteFunc(slices.Clone(table), func(x model.OpKind) bool { return x != k }))
	}
	require.Equal(t, count(model.Add), count(model.Del))
	require.Equal(t, count(model.Down), 3*count(model.Unplug))
	require.Equal(t, []model.OpKind{model.Add, model.Del}, slices.Compact(Kinds(sut.Limits{Ops: []model.OpKind{model.Add, model.Del}})))
	// A kind that is not drawn by any action of its own (an alphabet
	// with one more kind) would show up here without a decoder change:
	// the table is built from model.Alphabet alone.
	var names []string
	for _, k := range slices.Compact(slices.Clone(table)) {
		names = append(names, k.String())
	}
	require.Equal(t, "add del down up unplug plug carrier change route add route del", strings.Join(names, " "))
	require.Len(t, table, 100, "the kinds table of encoding %d", Encoding)
	require.Equal(t, 3*count(model.RouteDel), count(model.RouteAdd))
}

// A route del decoded on a present route (its adapter byte below 128)
// names a route the model holds, also for a stack that takes no metric:
// the IPv6 default metric is then left out, and means the same.
func TestDecodePresentRoute(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	noMetric := sut.Limits{IPv4: true, IPv6: true, Attrs: []string{"lifetimes"}}
	for _, l := range []sut.Limits{sut.All, noMetric} {
		dels, found := 0, 0
		for range 2000 {
			// Random ops after an address and a route on link by it
			// (route add 198.51.100.0/24 dev a0), so that some
			// route adds through a gateway succeed.
			b := []byte{0, 0, 0, 0, 0, 0, 80, 3, 0, 0, 0, 0}
			for range r.IntN(120) {
				b = append(b, byte(r.Uint32()))
			}
			cfg, ops, err := Decode(b, l)
			require.NoError(t, err)
			st, err := model.New(cfg)
			require.NoError(t, err)
			for _, op := range ops {
				if op.Kind == model.RouteDel && len(st.UserRoutes()) > 0 {
					dels++
					if st.Check(op) == nil {
						found++
					}
				}
				st.Apply(op)
			}
		}
		t.Logf("%+v: %d of %d route dels with user routes present name one", l, found, dels)
		require.Greater(t, dels, 50)
		// Half the adapter bytes ask for a present route; a drawn
		// one is sometimes present too.
		require.Greater(t, found*10, dels*4, "%d of %d", found, dels)
	}
}

// A stack of one family is sent route ops of that family only, their
// gateways and sources included.
func TestDecodeRouteFamilies(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, l := range []sut.Limits{{IPv4: true, Attrs: model.Capabilities()}, {IPv6: true, Attrs: model.Capabilities()}} {
		routes, via, src := 0, 0, 0
		for range 500 {
			b := make([]byte, 1+r.IntN(120))
			for j := range b {
				b[j] = byte(r.Uint32())
			}
			_, ops, err := Decode(b, l)
			require.NoError(t, err)
			for _, op := range ops {
				if !op.Kind.Spec().Routes() {
					continue
				}
				routes++
				require.Equal(t, l.IPv4, op.Prefix.Addr().Is4(), "%s", op)
				for _, a := range []netip.Addr{op.Via, op.Src} {
					if a.IsValid() {
						require.Equal(t, l.IPv4, a.Is4(), "%s", op)
					}
				}
				if op.Via.IsValid() {
					via++
				}
				if op.Src.IsValid() {
					src++
				}
			}
		}
		require.Greater(t, routes, 100)
		require.Greater(t, via, routes/3)
		require.Greater(t, src, routes/3)
	}
}
