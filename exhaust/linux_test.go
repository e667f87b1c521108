package exhaust

import (
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/routefuzz/routefuzz/corpus"
	"github.com/routefuzz/routefuzz/model"
	"github.com/routefuzz/routefuzz/props"
	"github.com/routefuzz/routefuzz/sut"
	"github.com/routefuzz/routefuzz/sut/linux"
)

// shorterInUniverse records the known kernel divergence cases whose
// universe holds a divergence shorter than the recorded order: the
// shortest one the search finds first. These are findings, not errors of
// the search: each is another face of a known divergence, reached with
// fewer ops from the same addresses, kinds and values.
var shorterInUniverse = map[string][]string{
	// The 3-op case shows the prefix route that a change to lifetimes
	// gives an expiry in the past deleted by the next fib6 garbage
	// collection (down a1). The lookups see it one op earlier: right
	// after the change the route is still listed, but a lookup already
	// skips it as expired (rt6_check_expired), and the prefix answers
	// unreachable.
	"linux-ipv6-change-expires-bad.txtar": {
		"add a0 2001:db8::1/64",
		"change a0 2001:db8::1/64 valid_lft 600 preferred_lft 300",
	},
	// The 4-op case shows an address kept over down and changed to have
	// lifetimes losing every route at up. Its universe also holds
	// linux-ipv6-nonpermanent's 2-op face (changing the metric of an
	// address with lifetimes leaks the old prefix route), and, found
	// first, linux-ipv6-change-expires' 2-op face as the lookups see it
	// (above).
	"linux-ipv6-nonpermanent-keep-change-bad.txtar": {
		"add a0 2001:db8::1/64",
		"change a0 2001:db8::1/64 valid_lft 600 preferred_lft 300",
	},
	// The 4-op case reaches linux-src-is-broadcast through promotion.
	// Its universe holds a 2-op instance on one adapter with no
	// promotion: 10.0.1.255 is already a0's broadcast destination for
	// 10.0.1.0/24 when it is added as the primary of 10.0.0.0/16, so the
	// /16's subnet and broadcast routes are dropped.
	"linux-src-is-broadcast-promote-bad.txtar": {
		"add a0 10.0.1.1/24",
		"add a0 10.0.1.255/16",
	},
	// The 3-op cases of linux-ipv6-prefix-route-user show what the
	// kernel does later (a change, a del) to a user's route that has the
	// key of an address's prefix route. Each universe holds the 2-op
	// face: the user's route first, then the address at the same
	// prefix and metric, whose own prefix route fib6_add_rt2 refuses
	// as a duplicate, so the kernel lists one route where the model
	// lists the user's and the address's.
	"linux-ipv6-prefix-route-user-change-bad.txtar": {
		"route add 2001:db8::/48 dev a0",
		"add a0 2001:db8:0:2::2/48 metric 1024",
	},
	"linux-ipv6-prefix-route-user-del-bad.txtar": {
		"route add 2001:db8:2::/64 dev a0 metric 2000",
		"add a0 2001:db8:2::1/64 metric 2000",
	},
	"linux-ipv6-prefix-route-user-same-key-bad.txtar": {
		"route add 2001:db8:1::/64 dev a0 metric 256",
		"add a0 2001:db8:1::1/64",
	},
	// linux-ipv6-prefsrc-stale needs no address on the route's adapter
	// (an IPv6 route on link needs none): the 3-op order without the
	// case's add on a1.
	"linux-ipv6-prefsrc-stale-bad.txtar": {
		"add a0 2001:db8:1::1/64",
		"route add 2001:db8:97::/64 dev a1 src 2001:db8:1::1",
		"down a0",
	},
}

// TestKnownLinuxDivergencesAreShortest runs, for each corpus case
// recorded as diverging on the kernel, every sequence of its universe
// (FromCase) up to the case's length, shortest first, with no reduction
// (so with no assumption about the kernel but that it is deterministic),
// and checks that the shortest divergence there is as long as the
// recorded order, or is the shorter one recorded in shorterInUniverse
// (which the enumeration order makes the first one found).
// It then checks that the search with symmetry and pruning finds a
// divergence of the same length.
func TestKnownLinuxDivergencesAreShortest(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("the kernel stack needs root")
	}
	stack, err := linux.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer stack.Close()
	paths, _ := filepath.Glob(filepath.Join("..", "corpus", "*.txtar"))
	cases, err := corpus.LoadFiles(paths)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, c := range cases {
		if !c.ExpectsDivergence("linux") {
			continue
		}
		n++
		name := filepath.Base(c.Path)
		t.Run(name, func(t *testing.T) {
			u := FromCase(c)
			var shorter []model.Op
			for _, s := range shorterInUniverse[name] {
				shorter = append(shorter, model.MustParseOp(s))
			}
			want := len(c.Ops)
			if shorter != nil {
				want = len(shorter)
			}
			// Every sequence of the shortest length is run when there
			// are few, to check that the kernel treats renamed sequences
			// alike there.
			finish := math.Pow(float64(len(u.Ops(sut.LimitsOf(stack)))), float64(want)) <= 1000
			var lengths []int
			var levels []Level
			for _, o := range []Options{
				{Depth: len(c.Ops), FinishLevel: finish},
				{Depth: len(c.Ops), FinishLevel: finish, Symmetry: true},
				{Depth: len(c.Ops), Symmetry: true, Prune: PruneRepeats},
			} {
				r, err := Search("linux", stack, u, o)
				if err != nil {
					t.Fatal(err)
				}
				t.Logf("universe %s: %d ops; symmetry=%v prune=%v", u, len(r.Ops), o.Symmetry, o.Prune)
				logResult(t, r)
				d := r.Divergence
				switch {
				case d == nil || r.Flaky:
					t.Fatalf("no divergence up to %d ops (flaky=%v)", len(c.Ops), r.Flaky)
				case len(d.Ops) < len(c.Ops):
					known := knownAs(d.Config, d.Ops)
					t.Logf("a divergence shorter than the recorded %d ops, known as %v:\n%s", len(c.Ops), known, d.Report())
					if len(known) == 0 {
						t.Errorf("no known divergence (props exclusion) matches it")
					}
				}
				lengths = append(lengths, len(d.Ops))
				levels = append(levels, r.Levels[len(r.Levels)-1])
				switch {
				case len(d.Ops) != want:
					t.Errorf("the shortest divergence has %d ops, want %d:\n%s", len(d.Ops), want, d.Report())
				case shorter != nil && !o.Symmetry && !slices.Equal(d.Ops, shorter):
					t.Errorf("the first shortest divergence is\n%s\nwant the order\n%s", d.Report(), formatOps(shorter))
				}
			}
			if finish {
				t.Logf("length %d: %d sequences diverge; with symmetry %d, standing for %d", levels[0].Length, levels[0].Diverged, levels[1].Diverged, levels[1].Represented)
				if levels[0].Diverged != levels[1].Represented {
					t.Errorf("the kernel does not treat renamed sequences alike: %d diverge, the canonical ones stand for %d", levels[0].Diverged, levels[1].Represented)
				}
			}
			if lengths[0] != lengths[1] || lengths[0] != lengths[2] {
				t.Errorf("the shortest divergence has %v ops with no reduction, symmetry, symmetry and pruning", lengths)
			}
		})
	}
	if n == 0 {
		t.Fatal("no case diverges on linux")
	}
}

// knownAs returns the names of the known divergences (props exclusions)
// that match the last of ops.
func knownAs(cfg model.Config, ops []model.Op) []string {
	st, err := model.New(cfg)
	if err != nil {
		return nil
	}
	for _, op := range ops[:len(ops)-1] {
		st.Apply(op)
	}
	var names []string
	for _, n := range props.ExclusionNamesFor("linux") {
		if e, ok := props.LookupExclusion(n); ok && e.Match(st, ops[len(ops)-1]) {
			names = append(names, n)
		}
	}
	return names
}

func formatOps(ops []model.Op) string {
	s := ""
	for _, op := range ops {
		s += "    " + op.String() + "\n"
	}
	return s
}
