package props

import (
	"regexp"
	"slices"
	"testing"

	"github.com/routefuzz/routefuzz/corpus"
	"github.com/routefuzz/routefuzz/model"
)

// Every recorded kernel divergence (a corpus case that diverges on linux)
// names its exclusion in its comment, and that exclusion skips one of its
// ops; every exclusion has such a case. So `-exclude known` goes past each
// recorded divergence, and no exclusion is without its evidence.
func TestExclusionsMatchTheirCases(t *testing.T) {
	cases, err := corpus.Load("../corpus")
	if err != nil {
		t.Fatal(err)
	}
	named := regexp.MustCompile(`\(exclusion ([a-z0-9-]+)\)`)
	covered := map[string]bool{}
	known, err := Exclusions([]string{"known"})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		if c.Expect("linux") == corpus.ExpectAgree {
			// The kernel gets these right: an exclusion that skipped
			// one of their ops would be broader than its bug.
			st, _ := model.New(c.Config())
			for _, op := range c.Ops {
				if known(st, op) {
					t.Errorf("%s: the kernel agrees, but a known exclusion skips %s", c.Path, op)
				}
				st.Apply(op)
			}
			continue
		}
		if !c.ExpectsDivergence("linux") {
			continue
		}
		m := named.FindStringSubmatch(c.Comment)
		if m == nil {
			t.Errorf("%s: diverges on linux but its comment names no (exclusion NAME)", c.Path)
			continue
		}
		ex, err := Exclusions([]string{m[1]})
		if err != nil {
			t.Errorf("%s: %v", c.Path, err)
			continue
		}
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
			t.Errorf("%s: exclusion %s matches none of its ops", c.Path, m[1])
		}
		covered[m[1]] = true
	}
	for _, n := range ExclusionNames() {
		if !covered[n] {
			t.Errorf("exclusion %s has no corpus case that diverges on linux", n)
		}
	}
	if !slices.Contains(ExclusionNames(), "linux-ipv6-nonpermanent") {
		t.Error("the lifecycle exclusions are not registered")
	}
}
