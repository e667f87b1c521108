package main

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/routefuzz/routefuzz/corpus"
)

var exhaustSummary = regexp.MustCompile(`^routefuzz: sut=(\w+) sequences=(\d+) symmetric=(\d+) pruned=(\d+) steps=(\d+) divergences=(\d+) flaky=(\d+) elapsed=\S+ rate=\d+/s$`)

func TestExhaustLegacyFindsKBAtThree(t *testing.T) {
	dir := t.TempDir()
	out, code := run(t, dir, "exhaust", "-sut", "legacy", "-kinds", "add,del", "-prefixes", "10.0.0.1/24,10.0.0.2/24", "-depth", "4", "-save", "found")
	require.Equal(t, 1, code, out)
	require.Contains(t, out, "proved: no sequence of fewer than 3 ops of this universe diverges on legacy")
	m := exhaustSummary.FindStringSubmatch(lastLine(out))
	require.NotNil(t, m, "last line is not the summary:\n%s", out)
	require.Equal(t, "1", m[6])
	files, _ := filepath.Glob(filepath.Join(dir, "found", "*-legacy-bad.txtar"))
	require.Len(t, files, 1, out)
	cs, err := corpus.LoadFiles(files)
	require.NoError(t, err)
	require.Len(t, cs[0].Ops, 3)

	// The saved case's universe, below its length: nothing.
	out, code = run(t, dir, "exhaust", "-sut", "legacy", "-case", files[0], "-depth", "2", "-symmetry=false", "-prune", "off")
	require.Equal(t, 0, code, out)
	require.Contains(t, out, "proved: no sequence of at most 2 ops of this universe diverges on legacy (deterministic replay only; no assumption)")
}

func TestExhaustFixedAgrees(t *testing.T) {
	out, code := run(t, t.TempDir(), "exhaust", "-sut", "fixed", "-depth", "2", "-values", "metric=100", "-prefixes", "10.0.0.1/24,2001:db8::1/64")
	require.Equal(t, 0, code, out)
	require.Contains(t, out, "proved: no sequence of at most 2 ops of this universe diverges on fixed")
	require.Regexp(t, exhaustSummary, lastLine(out))
}

func TestExhaustBadInput(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "c.txtar"), []byte("-- ops --\nadd a0 10.0.0.1/24\n"), 0o644))
	for _, args := range [][]string{
		{"-sut", "legacy", "-depth", "-1"},
		{"-sut", "legacy", "-prune", "sometimes"},
		{"-sut", "legacy", "-kinds", "add,frob"},
		{"-sut", "legacy", "-prefixes", "10.0.0.1"},
		{"-sut", "legacy", "-values", "colour=1"},
		{"-sut", "legacy", "-values", "valid_lft=600"},
		{"-sut", "legacy", "-case", "c.txtar", "-adapters", "3"},
		{"-sut", "nosuch"},
		{},
	} {
		out, code := run(t, dir, append([]string{"exhaust"}, args...)...)
		require.Equal(t, 2, code, "%v: %s", args, out)
	}
	// Values the alphabet's rules refuse, a prefix given twice and a depth
	// no search can run are refused with a message, not filtered out or
	// run over a universe other than the one asked for.
	for _, tc := range []struct {
		args []string
		msg  string
	}{
		{[]string{"-values", "valid_lft=10/5"}, "-values: valid_lft=10/5: lifetimes under 300 s could expire during a run"},
		{[]string{"-values", "valid_lft=300/600"}, "-values: valid_lft=300/600: preferred_lft 600 is longer than valid_lft 300"},
		{[]string{"-values", "valid_lft=0/300"}, "-values: valid_lft=0/300: valid_lft and preferred_lft go together"},
		{[]string{"-values", "valid_lft=600/300,4294967295/300"}, "-values: valid_lft=4294967295/300: valid_lft 4294967295 is forever"},
		{[]string{"-values", "noprefixroute=7"}, "-values: noprefixroute=7: noprefixroute is a flag: its one value is 1"},
		{[]string{"-values", "metric=100,100"}, "-values: metric=100 is given twice"},
		{[]string{"-prefixes", "10.0.0.1/24,10.0.0.1/24"}, "-prefixes: 10.0.0.1/24 is given twice"},
		{[]string{"-depth", "13"}, "-depth 13 is over 12: the sequences grow as ops^depth"},
		{[]string{"-kinds", "add,route-add"}, "exhaust: route add takes a destination, and the universe has none"},
		{[]string{"-dsts", "10.0.0.1/24"}, "-dsts: destination 10.0.0.1/24 has host bits set"},
		{[]string{"-dsts", "default,0.0.0.0/0"}, "exhaust: destination 0.0.0.0/0 is given twice"},
		{[]string{"-dsts", "default", "-gateways", "2001:db8::9"}, "exhaust: gateway 2001:db8::9 is of a family no destination is"},
		{[]string{"-dsts", "default", "-sources", "10.0.0"}, "-sources: ParseAddr(\"10.0.0\")"},
	} {
		out, code := run(t, dir, append([]string{"exhaust", "-sut", "fixed"}, tc.args...)...)
		require.Equal(t, 2, code, "%v: %s", tc.args, out)
		require.Contains(t, out, tc.msg, tc.args)
		require.NotContains(t, out, "proved", tc.args)
	}
}

// check -exhaust-confirm runs every shorter order of the found case's
// universe after the shrink: on legacy's KB287032 case, none of 1 or 2
// ops diverges, and the summary stays the last line.
func TestCheckExhaustConfirm(t *testing.T) {
	out, code := run(t, t.TempDir(), "check", "-sut", "legacy", "-seed", "3", "-exhaust-confirm")
	require.Equal(t, 1, code, out)
	require.Contains(t, out, "exhaust-confirm: ")
	require.Contains(t, out, "proved: no sequence of at most 2 ops of this universe diverges on legacy", out)
	require.NotNil(t, summary.FindStringSubmatch(lastLine(out)), out)
}

// The route flags make route ops: a destination with each gateway and
// source or none, on each adapter (-kinds all takes the route kinds only
// with -dsts).
func TestExhaustRouteUniverse(t *testing.T) {
	out, _ := run(t, t.TempDir(), "exhaust", "-sut", "fixed", "-kinds", "route-add", "-dsts", "default", "-gateways", "10.0.0.9", "-sources", "10.0.0.1", "-depth", "1")
	require.Contains(t, out, "universe: adapters=a0,a1 promote=off prefixes=10.0.0.1/24,10.0.0.2/24,10.0.0.255/24 dsts=0.0.0.0/0 gateways=10.0.0.9 sources=10.0.0.1 kinds=route add\n", out)
	require.Contains(t, out, "\n8 ops; depth 1;", out) // 2 vias x 2 adapters x 2 srcs
	out, _ = run(t, t.TempDir(), "exhaust", "-sut", "fixed", "-depth", "1")
	require.NotContains(t, out, "route add", out)
}
