package bytefuzz

import (
	"math/rand/v2"
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
		// KB287032's order: header, add a1, add a0, del (zeros past
		// the end: the first present address at or after a0 10.0.0.1/24).
		{[]byte{0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 10}, "adapters=a0,a1 promote=off", []string{
			"add a1 10.0.0.1/24", "add a0 10.0.0.1/24", "del a0 10.0.0.1/24"}},
		// Three adapters, promote on; add with metric 100 (V=1), IPv6
		// (P=2), host ::2 at /48 (Q=1+4); an add on no adapter (A=255).
		{[]byte{5, 0, 2, 2, 5, 1, 0, 255, 3, 0, 0}, "adapters=a0,a1,a2 promote=on", []string{
			"add a2 2001:db8:0:1::2/48 metric 100", "add x3 10.0.1.1/24"}},
		// Attributes: V = 1 + 4*2 + 12*2: metric 100, noprefixroute,
		// lifetimes 600/300.
		{[]byte{1, 0, 0, 0, 0, 33}, "adapters=a0,a1,a2 promote=off", []string{
			"add a0 10.0.0.1/24 metric 100 noprefixroute valid_lft 600 preferred_lft 300"}},
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
	require.Equal(t, "add del down up unplug plug carrier change", strings.Join(names, " "))
}
