package props

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/routefuzz/routefuzz/internal/pools"
	"github.com/routefuzz/routefuzz/model"
	"github.com/routefuzz/routefuzz/stats"
	"github.com/routefuzz/routefuzz/sut/fixed"
	"github.com/routefuzz/routefuzz/sut/legacy"
)

// TestGeneratorCoversTheMultihomedCases holds the default generator (as
// `check` runs it: attributes drawn, three adapters, both families) to a
// floor on each statistic, on a fixed seed, so that a generator change
// that stops reaching one of the cases fails here.
func TestGeneratorCoversTheMultihomedCases(t *testing.T) {
	res, err := Hunt(fixed.New(), Config{Name: "fixed", Attrs: true}, Budget{Checks: 100, Seed: 1})
	require.NoError(t, err)
	require.Nil(t, res.Minimal)
	s := res.Generated
	t.Logf("\n%s", s)
	require.Equal(t, res.Checks, s.Sequences, "one sequence per check")
	require.Equal(t, res.Steps, s.Ops, "every op applied is counted")

	// Every kind of the alphabet is drawn, in both families where it
	// takes an address.
	for _, k := range s.Kinds {
		if kind, err := model.ParseOpKind(k.Kind); err == nil && kind.Spec().Declared {
			continue // a kind only stacks that declare it take (hold): not fixed
		}
		require.GreaterOrEqual(t, k.Ops, 20, "ops of kind %s", k.Kind)
		if !k.Lifecycle {
			require.GreaterOrEqual(t, k.IPv4, 10, "IPv4 ops of kind %s", k.Kind)
			require.GreaterOrEqual(t, k.IPv6, 5, "IPv6 ops of kind %s", k.Kind)
		}
	}
	// Every prefix length the generator knows, in both families.
	lengths := map[string]map[int]int{"ipv4": {}, "ipv6": {}}
	for _, l := range s.PrefixLengths {
		lengths[l.Family][l.Length] = l.Ops
	}
	for _, l := range pools.V4Lengths {
		require.GreaterOrEqual(t, lengths["ipv4"][l], 20, "IPv4 /%d", l)
	}
	for _, l := range pools.V6Lengths {
		require.GreaterOrEqual(t, lengths["ipv6"][l], 10, "IPv6 /%d", l)
	}
	// Sequences of many lengths.
	require.Less(t, s.SequenceLength.Min, 10)
	require.Greater(t, s.SequenceLength.Max, 60)
	require.GreaterOrEqual(t, len(s.SequenceLengths), 30, "distinct sequence lengths")
	// The multihomed cases. The floors are about half of what seed 1
	// reaches (2,446 ops in 100 checks: 7 adds of an address already
	// there, a subnet on two adapters in 18 sequences, 242 primaries
	// deleted, 163 lifecycle ops on an adapter with addresses).
	require.GreaterOrEqual(t, s.AddsExisting, 3, "adds of an address already there")
	require.GreaterOrEqual(t, s.SharedSequences, 9, "sequences with a subnet on 2+ adapters at once")
	require.GreaterOrEqual(t, s.MostAdaptersSharing, 2, "adapters sharing a subnet")
	require.GreaterOrEqual(t, s.PrimariesDeleted, 100)
	require.GreaterOrEqual(t, s.SecondariesDeleted, 3, "secondaries deleted with their primary (promote off)")
	require.GreaterOrEqual(t, s.LifecycleOnAddresses, 80)
	require.GreaterOrEqual(t, s.Invalid, 100)
	require.GreaterOrEqual(t, s.MostAddresses, 8)
	results := map[string]int{}
	for _, r := range s.Results {
		results[r.Result] = r.Ops
	}
	for _, r := range []string{"ok", "exists", "notfound", "invalid"} {
		require.GreaterOrEqual(t, results[r], 20, "result %s", r)
	}
	// The route ops' results, and their collisions with addresses. Seed
	// 1 reaches about twice these floors (measured with the model's user
	// routes on fixed: a gateway off link after 99 ops, 3 srcs gone, a
	// collision in 8 sequences, 4 user routes at once).
	for _, r := range []string{"unreachable", "badsrc", "netdown"} {
		require.GreaterOrEqual(t, results[r], 5, "result %s", r)
	}
	require.GreaterOrEqual(t, s.RouteGatewayOffLinkSteps, 40, "steps with a user route's gateway off link")
	require.GreaterOrEqual(t, s.RouteSrcDeleted+s.RouteSrcCleared, 2, "user routes whose src went")
	require.GreaterOrEqual(t, s.RouteCollisionSequences, 4, "sequences with a route collision")
	require.GreaterOrEqual(t, s.MostUserRoutes, 3)
}

// TestPromotedSecondaries: with promote on, deleting a primary promotes
// a secondary, and none is deleted with it. Promotions are rare (a
// secondary must be there when its primary goes): seed 1 reaches 9 in
// 300 checks.
func TestPromotedSecondaries(t *testing.T) {
	res, err := Hunt(fixed.New(), Config{Name: "fixed", Attrs: true, Promote: true}, Budget{Checks: 300, Seed: 1})
	require.NoError(t, err)
	s := res.Generated
	require.GreaterOrEqual(t, s.SecondariesPromoted, 5)
	require.Zero(t, s.SecondariesDeleted)
}

// TestStatsCountTheSearchOnly: what rapid's shrinking runs is not
// counted, so the figures of a hunt that finds a divergence describe the
// checks it reports.
func TestStatsCountTheSearchOnly(t *testing.T) {
	gen := stats.NewCollector()
	res, err := Hunt(legacy.New(), Config{Name: "legacy", Generated: gen}, Budget{Checks: 100, Seed: 3})
	require.NoError(t, err)
	require.NotNil(t, res.Minimal)
	require.Greater(t, res.Shrinks, 0)
	require.Equal(t, res.Checks, res.Generated.Sequences)
	require.Equal(t, res.Steps, res.Generated.Ops)
	require.Equal(t, res.Generated, gen.Stats())
}
