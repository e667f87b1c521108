package stats

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/routefuzz/routefuzz/model"
)

// feed runs one sequence of ops through a model and c.
func feed(t *testing.T, c *Collector, cfg model.Config, ops ...string) {
	t.Helper()
	st, err := model.New(cfg)
	require.NoError(t, err)
	c.Begin()
	for _, s := range ops {
		op := model.MustParseOp(s)
		want, _ := model.ResultOf(st.Check(op))
		c.Before(st, op)
		got, _ := model.ResultOf(st.Apply(op))
		require.Equal(t, want, got, s)
		c.After(st, got)
	}
	c.End()
}

func TestCounts(t *testing.T) {
	c := NewCollector()
	cfg := model.Config{Adapters: []string{"a0", "a1", "a2"}}
	feed(t, c, cfg,
		"add a0 10.0.0.1/24",
		"add a1 10.0.0.2/24",
		"add a2 10.0.0.3/24", // 10.0.0.0/24 on three adapters
		"add a0 10.0.0.1/24", // exists
		"add a0 10.0.0.4/24", // a secondary
		"down a0",            // on an adapter with addresses
		"up a1",              // likewise (succeeds, changes nothing)
		"del a0 10.0.0.1/24", // a primary, its secondary deleted with it
		"down x9",            // invalid
		"add a1 2001:db8::1/64",
	)
	// A sequence whose one op was excluded, then one with a promotion.
	c.Begin()
	c.Excluded(model.MustParseOp("del a0 10.0.0.9/24"))
	c.End()
	feed(t, c, model.Config{Adapters: []string{"a0"}, Promote: true},
		"add a0 10.0.0.1/24", "add a0 10.0.0.2/24", "del a0 10.0.0.1/24", "unplug a0", "plug a0")
	s := c.Stats()
	require.Equal(t, 3, s.Sequences)
	require.Equal(t, 15, s.Ops)
	require.Equal(t, Spread{Min: 0, Median: 5, Max: 10}, s.SequenceLength)
	require.Equal(t, []Count{{0, 1}, {5, 1}, {10, 1}}, s.SequenceLengths)
	require.Equal(t, 1, s.Excluded)
	require.Equal(t, 8, s.Adds)
	require.Equal(t, 1, s.AddsExisting)
	require.Equal(t, 1, s.SharedSequences)
	require.Equal(t, 3, s.MostAdaptersSharing)
	require.Equal(t, 2, s.PrimariesDeleted)
	require.Equal(t, 1, s.SecondariesDeleted)
	require.Equal(t, 1, s.SecondariesPromoted)
	require.Equal(t, 5, s.Lifecycle)
	require.Equal(t, 3, s.LifecycleOnAddresses, "down a0, up a1, unplug a0; not plug, not down x9")
	require.Equal(t, 1, s.Invalid)
	require.Equal(t, 4, s.MostAddresses)
	add := s.Kinds[model.Add-1]
	require.Equal(t, Kind{Kind: "add", Ops: 8, IPv4: 7, IPv6: 1, Results: []Result{{"ok", 7}, {"exists", 1}}}, add)
	require.Equal(t, 1, s.Kinds[model.Del-1].Excluded)
	require.Contains(t, s.PrefixLengths, PrefixLength{"ipv4", 24, 9})
	require.Contains(t, s.PrefixLengths, PrefixLength{"ipv6", 64, 1})
	require.Equal(t, []Result{{"ok", 13}, {"exists", 1}, {"notfound", 0}, {"invalid", 1}, {"unreachable", 0}, {"badsrc", 0}, {"netdown", 0}}, s.Results)
	text := s.String()
	require.Contains(t, text, "generated: 15 ops in 3 sequences (length min 0, median 5, max 10); 1 more drawn and excluded\n")
	require.Contains(t, text, "subnet on 2+ adapters at once in 33% of sequences (max 3 adapters)")
}

// The route statistics: ops by result, and the collisions of user routes
// with addresses (a gateway off link, a src gone).
func TestRouteCounts(t *testing.T) {
	c := NewCollector()
	cfg := model.Config{Adapters: []string{"a0", "a1"}}
	feed(t, c, cfg,
		"add a0 10.0.0.1/24",
		"add a1 10.1.0.1/24",
		"add a1 2001:db8::1/64",
		"route add default via 10.0.0.9 dev a0 src 10.1.0.1", // a src another adapter holds
		"route add 198.51.100.0/24 via 10.1.0.9 dev a0",      // unreachable: a1's subnet
		"route add 2001:db8:99::/64 dev a0 src 2001:db8::1",
		"route add 10.0.0.0/24 dev a0", // exists: the subnet route's key
		"route del 10.0.0.0/16 dev a0", // notfound
		"del a1 10.1.0.1/24",           // src gone: the default route deleted
		"del a1 2001:db8::1/64",        // src gone: cleared
		"add a0 10.0.1.1/24",
		"route add default via 10.0.0.9 dev a0",
		"del a0 10.0.0.1/24", // the gateway off link (the route stays)
		"add a0 10.0.0.2/16", // and on link again
	)
	s := c.Stats()
	ra, rd := s.Kinds[model.RouteAdd-1], s.Kinds[model.RouteDel-1]
	require.Equal(t, Kind{Kind: "route add", Ops: 5, IPv4: 4, IPv6: 1, Results: []Result{{"ok", 3}, {"exists", 1}, {"unreachable", 1}}}, ra)
	require.Equal(t, Kind{Kind: "route del", Ops: 1, IPv4: 1, Results: []Result{{"notfound", 1}}}, rd)
	require.Equal(t, 1, s.RouteSrcDeleted)
	require.Equal(t, 1, s.RouteSrcCleared)
	require.Equal(t, 1, s.RouteGatewayOffLinkSteps)
	require.Equal(t, 3, s.RouteCollisionSteps)
	require.Equal(t, 1, s.RouteCollisionSequences)
	require.Equal(t, 2, s.MostUserRoutes)
	require.Equal(t, []PrefixLength{{"ipv4", 16, 1}, {"ipv4", 24, 5}, {"ipv6", 64, 2}}, s.PrefixLengths, "route destinations are no addresses")
	text := s.String()
	require.Contains(t, text, "  results:    ok 79% · exists 7% · notfound 7% · invalid 0% · unreachable 7%\n")
	require.Contains(t, text, "  routes:     route add 5 (ok 60%, exists 20%, unreachable 20%) · route del 1 (notfound 100%) · a gateway off link after 7% of ops · src gone: 1 IPv4 routes deleted, 1 IPv6 srcs cleared · either in 100% of sequences · most user routes at once 2\n")
	t.Log(text)
}

func TestDiscard(t *testing.T) {
	c := NewCollector()
	cfg := model.Config{Adapters: []string{"a0"}}
	feed(t, c, cfg, "add a0 10.0.0.1/24")
	c.Discard = true
	feed(t, c, cfg, "add a0 10.0.0.1/24", "del a0 10.0.0.1/24")
	s := c.Stats()
	require.Equal(t, 1, s.Sequences)
	require.Equal(t, 1, s.Ops)
}

func TestFormatting(t *testing.T) {
	require.Equal(t, "1,234,567", thousands(1234567))
	require.Equal(t, "999", thousands(999))
	require.Equal(t, "<1%", pct(1, 1000))
	require.Equal(t, "0%", pct(0, 0))
	require.Equal(t, "41%", pct(41, 100))
	require.Equal(t, "generated: 0 ops in 0 sequences\n", Stats{}.String())
}

func TestLengthBuckets(t *testing.T) {
	require.Equal(t, "0-9 25% · 10-19 25% · 100+ 50%", lengthBuckets([]Count{{0, 1}, {12, 1}, {100, 1}, {250, 1}}, 4))
}
