package bytefuzz

import (
	"math/rand/v2"
	"slices"

	"github.com/routefuzz/routefuzz/model"
	"github.com/routefuzz/routefuzz/sut"
)

// Seeds returns the seed corpus: the empty input, one op of each kind of
// the alphabet for every header, and random inputs from a fixed seed.
// Each decodes to a whole configuration and op sequence; the targets add
// them (go test runs them as tests) and the decode command writes them
// out as a libFuzzer seed corpus.
func Seeds() [][]byte {
	seeds := [][]byte{{}}
	kinds := Kinds(sut.All)
	for _, h := range []byte{0, 1, 4, 9} {
		for _, sp := range model.Alphabet {
			// K: the kind's first entry in the kinds table.
			k := byte(slices.Index(kinds, sp.Kind))
			seeds = append(seeds, []byte{h, k, 0, 0, 0, 0, 0, 0})
		}
	}
	r := rand.New(rand.NewPCG(12, 1))
	for range 40 {
		b := make([]byte, 1+r.IntN(200))
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		seeds = append(seeds, b)
	}
	return seeds
}
