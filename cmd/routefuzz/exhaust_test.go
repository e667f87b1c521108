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
