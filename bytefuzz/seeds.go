package bytefuzz

import "math/rand/v2"

// Seeds returns the seed corpus: the empty input, one op of each kind of
// the alphabet for every header, and random inputs from a fixed seed.
// Each decodes to a whole configuration and op sequence; the targets add
// them (go test runs them as tests) and the decode command writes them
// out as a libFuzzer seed corpus.
func Seeds() [][]byte {
	seeds := [][]byte{{}}
	for _, h := range []byte{0, 1, 4, 9} {
		for k := range byte(40) {
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
