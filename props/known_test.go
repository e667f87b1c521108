package props

import (
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/routefuzz/routefuzz/corpus"
	"github.com/routefuzz/routefuzz/model"
)

// Every recorded divergence of a stack that has exclusions (a corpus case
// that diverges there: the kernel, gVisor) names its exclusion in its
// comment, "(exclusion NAME)", one of that stack's, and that exclusion
// skips one of its ops; every exclusion has such a case on one of its
// stacks. So `-exclude known` goes past each recorded divergence, and no
// exclusion is without its evidence.
func TestExclusionsMatchTheirCases(t *testing.T) {
	cases, err := corpus.Load("../corpus")
	if err != nil {
		t.Fatal(err)
	}
	named := regexp.MustCompile(`\(exclusion ([a-z0-9-]+)\)`)
	covered := map[string]bool{}
	linux, err := ExclusionsFor("linux", []string{"known"})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		if c.Expect("linux") == corpus.ExpectAgree {
			// The kernel gets these right: an exclusion that skipped
			// one of their ops would be broader than its bug.
			st, _ := model.New(c.Config())
			for _, op := range c.Ops {
				if linux(st, op) {
					t.Errorf("%s: the kernel agrees, but a known exclusion skips %s", c.Path, op)
				}
				st.Apply(op)
			}
		}
		for _, stack := range c.Diverges {
			mine := ExclusionNamesFor(stack)
			if len(mine) == 0 {
				continue // a stack whose bugs are not excluded (legacy)
			}
			var names []string
			for _, m := range named.FindAllStringSubmatch(c.Comment, -1) {
				if slices.Contains(mine, m[1]) {
					names = append(names, m[1])
				}
			}
			if len(names) == 0 {
				t.Errorf("%s: diverges on %s but its comment names none of its exclusions, (exclusion NAME): %s", c.Path, stack, strings.Join(mine, ", "))
			}
			for _, n := range names {
				ex, _ := ExclusionsFor(stack, []string{n})
				st, err := model.New(c.Config())
				if err != nil {
					t.Fatal(err)
				}
				hit := false
				for _, op := range c.Ops {
					if ex(st, op) {
						hit = true
						break
					}
					st.Apply(op)
				}
				if !hit {
					t.Errorf("%s: exclusion %s matches none of its ops", c.Path, n)
				}
				covered[n] = true
			}
		}
	}
	for _, n := range ExclusionNames() {
		if !covered[n] {
			e, _ := LookupExclusion(n)
			t.Errorf("exclusion %s has no corpus case that diverges on %s", n, strings.Join(e.Stacks, " or "))
		}
	}
	if !slices.Contains(ExclusionNames(), "linux-ipv6-nonpermanent") {
		t.Error("the lifecycle exclusions are not registered")
	}
}

// "known" is the known divergences of the stack checked: the kernel's for
// linux, gVisor's for gvisor, none for fixed; Exclusions is linux's.
func TestExclusionsPerStack(t *testing.T) {
	for _, c := range []struct {
		stack, op string
		skip      bool
	}{
		{"linux", "add a0 0.0.0.0/24", false},
		{"gvisor", "add a0 0.0.0.0/24", true},
		{"gvisor-raw", "add a0 0.0.0.0/24", true},
		{"fixed", "add a0 0.0.0.0/24", false},
		{"linux", "change a0 10.0.0.1/24 noprefixroute", true},
		{"gvisor", "change a0 10.0.0.1/24 noprefixroute", false},
	} {
		st, _ := model.New(model.Config{Adapters: []string{"a0"}})
		st.Apply(model.MustParseOp("add a0 10.0.0.1/24"))
		ex, err := ExclusionsFor(c.stack, []string{"known"})
		if err != nil {
			t.Fatal(err)
		}
		if got := ex != nil && ex(st, model.MustParseOp(c.op)); got != c.skip {
			t.Errorf("%s: known skips %s: %v, want %v", c.stack, c.op, got, c.skip)
		}
	}
	if got, want := ExclusionNamesFor("linux"), ExclusionNames(); len(got) == 0 || len(got) >= len(want) {
		t.Errorf("linux has %d of %d exclusions", len(got), len(want))
	}
	linux, _ := ExclusionsFor("linux", []string{"known"})
	st, _ := model.New(model.Config{Adapters: []string{"a0"}})
	if linux(st, model.MustParseOp("add a0 0.0.0.0/24")) {
		t.Error(`ExclusionsFor("linux", known) skips a gVisor bug`)
	}
	// A replay of the corpus skips the cases a stack's known bug shows
	// in; not those that name the stack, nor on another stack.
	cases, err := corpus.Load("../corpus")
	if err != nil {
		t.Fatal(err)
	}
	skipped := map[string]string{}
	for _, c := range cases {
		for _, s := range []string{"gvisor", "linux", "fixed"} {
			if op, n, ok := KnownOp(c, s); ok {
				skipped[s+" "+filepath.Base(c.Path)] = n + ": " + op.String()
			}
		}
	}
	for k, want := range map[string]string{
		"gvisor route-ipv4-source-order-ok.txtar": "gvisor-sentry-subnet-route-loss: del a0 10.0.0.1/24",
		"gvisor zero-network-ok.txtar":            "gvisor-unspecified-address: add a0 0.0.0.0/24",
	} {
		if skipped[k] != want {
			t.Errorf("%s: skipped for %q, want %q", k, skipped[k], want)
		}
	}
	for k := range skipped {
		if !strings.HasPrefix(k, "gvisor ") || strings.Contains(k, "gvisor-") {
			t.Errorf("%s: skipped (%s)", k, skipped[k])
		}
	}
	// Any exclusion may be named whatever the stack.
	if ex, err := ExclusionsFor("fixed", []string{"gvisor-unspecified-address"}); err != nil || !ex(st, model.MustParseOp("add a0 0.0.0.0/24")) {
		t.Errorf("named: %v", err)
	}
}

// The route exclusions match exactly the situations their kernel code
// paths cover (docs/routes-semantics.md §6): each op here is checked
// after its setup, on a model with adapters a0 a1 a2.
func TestRouteExclusions(t *testing.T) {
	for _, c := range []struct {
		name  string
		keep  bool
		setup string
		op    string
		match bool
	}{
		// linux-ipv6-prefsrc-stale
		{"linux-ipv6-prefsrc-stale", false, "add a0 2001:db8:1::1/64;route add 2001:db8:97::/64 dev a1 src 2001:db8:1::1", "down a0", true},
		{"linux-ipv6-prefsrc-stale", false, "add a0 2001:db8:1::1/64;route add 2001:db8:97::/64 dev a1 src 2001:db8:1::1", "unplug a0", true},
		{"linux-ipv6-prefsrc-stale", true, "add a0 2001:db8:1::1/64;route add 2001:db8:97::/64 dev a1 src 2001:db8:1::1", "down a0", false},
		{"linux-ipv6-prefsrc-stale", true, "add a0 2001:db8:1::1/64;route add 2001:db8:97::/64 dev a1 src 2001:db8:1::1;down a0", "unplug a0", true},
		{"linux-ipv6-prefsrc-stale", false, "add a0 2001:db8:1::1/64;add a2 2001:db8:1::1/64;route add 2001:db8:97::/64 dev a1 src 2001:db8:1::1", "down a0", false},
		{"linux-ipv6-prefsrc-stale", false, "add a0 2001:db8:1::1/64;route add 2001:db8:97::/64 dev a0 src 2001:db8:1::1", "down a0", false},
		{"linux-ipv6-prefsrc-stale", false, "add a0 10.1.0.1/24;route add 192.0.2.0/24 dev a1 src 10.1.0.1", "unplug a0", false},
		{"linux-ipv6-prefsrc-stale", false, "add a0 2001:db8:1::1/64;route add 2001:db8:97::/64 dev a1 src 2001:db8:1::1", "del a0 2001:db8:1::1/64", false},
		// linux-ipv6-prefix-route-user
		{"linux-ipv6-prefix-route-user", false, "route add 2001:db8:2::/64 dev a0;add a0 2001:db8:2::1/64 metric 2000", "del a0 2001:db8:2::1/64", true},
		{"linux-ipv6-prefix-route-user", false, "route add 2001:db8:2::/64 dev a0;add a0 2001:db8:2::1/64 metric 2000", "change a0 2001:db8:2::1/64 metric 3000", true},
		{"linux-ipv6-prefix-route-user", false, "route add 2001:db8:2::/64 dev a0;add a0 2001:db8:2::1/64 metric 2000", "change a0 2001:db8:2::1/64 noprefixroute", true},
		{"linux-ipv6-prefix-route-user", false, "route add 2001:db8:1::/64 dev a0 metric 256", "add a0 2001:db8:1::1/64", true},
		{"linux-ipv6-prefix-route-user", false, "route add 2001:db8:1::/64 dev a0 metric 256;add a0 2001:db8:1::1/64 noprefixroute", "change a0 2001:db8:1::1/64", true},
		{"linux-ipv6-prefix-route-user", false, "add a0 2001:db8:0:2::2/48;route add 2001:db8::/48 dev a0", "change a0 2001:db8:0:2::2/48 metric 1024", true},
		{"linux-ipv6-prefix-route-user", false, "add a0 2001:db8:0:2::2/48;route add 2001:db8::/48 dev a0", "change a0 2001:db8:0:2::2/48 metric 1000", false},
		{"linux-ipv6-prefix-route-user", false, "route add 2001:db8:1::/64 dev a0 metric 256", "add a0 2001:db8:1::1/64 noprefixroute", false},
		{"linux-ipv6-prefix-route-user", false, "route add 2001:db8:1::/64 dev a0 metric 256", "add a0 2001:db8:1::1/64 metric 300", false},
		{"linux-ipv6-prefix-route-user", false, "route add 2001:db8:1::/64 dev a1 metric 256", "add a0 2001:db8:1::1/64", false},
		{"linux-ipv6-prefix-route-user", false, "add a0 2001:db8:2::1/64 metric 2000;route add 2001:db8:2::/64 dev a0 metric 3000", "del a0 2001:db8:2::1/64", false},
		{"linux-ipv6-prefix-route-user", false, "add a0 2001:db8:2::1/64 metric 2000;route add 2001:db8:2::/64 via 2001:db8:2::9 dev a0", "del a0 2001:db8:2::1/64", false},
		{"linux-ipv6-prefix-route-user", false, "add a0 2001:db8:2::1/64 noprefixroute;route add 2001:db8:2::/64 dev a0", "del a0 2001:db8:2::1/64", false},
		{"linux-ipv6-prefix-route-user", false, "route add 10.1.0.0/24 dev a0;add a0 10.1.0.1/24;add a0 10.2.0.1/24", "del a0 10.1.0.1/24", false},
	} {
		ex, ok := LookupExclusion(c.name)
		if !ok {
			t.Fatalf("no exclusion %s", c.name)
		}
		st, _ := model.New(model.Config{Adapters: []string{"a0", "a1", "a2"}, KeepAddrOnDown: c.keep})
		for _, line := range strings.Split(c.setup, ";") {
			if err := st.Apply(model.MustParseOp(line)); err != nil {
				t.Fatalf("%s: setup %s: %v", c.name, line, err)
			}
		}
		if got := ex.Match(st, model.MustParseOp(c.op)); got != c.match {
			t.Errorf("%s after %q: %s matches %v, want %v", c.op, c.setup, c.name, got, c.match)
		}
	}
}
