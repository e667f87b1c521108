package props

import (
	"testing"

	"github.com/routefuzz/routefuzz/sut/legacy"
)

func TestScratchChecksToFind(t *testing.T) {
	var cs []int
	for seed := uint64(1); seed <= 20; seed++ {
		res, _ := Hunt(&routeStack{inner: legacy.New()}, Config{Name: "legacy", Attrs: true}, Budget{Seed: seed, Checks: 300})
		n := -1
		if res.Minimal != nil {
			n = res.Checks
			if len(res.Minimal.Ops) != 3 {
				t.Logf("seed %d: %d ops", seed, len(res.Minimal.Ops))
			}
		}
		cs = append(cs, n)
	}
	t.Logf("%v", cs)
}
