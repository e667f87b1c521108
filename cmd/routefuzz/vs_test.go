package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// check -sut legacy -vs fixed finds KB287032 with no model in between,
// reports it naming both stacks, saves it as a pair case, and replay
// holds the pair to it (and never replays it against the model).
func TestCheckVs(t *testing.T) {
	dir := t.TempDir()
	out, code := run(t, dir, "check", "-sut", "legacy", "-vs", "fixed", "-seed", "3", "-save", "found")
	require.Equal(t, 1, code, out)
	require.Contains(t, out, "checking legacy (")
	require.Contains(t, out, ") against fixed (")
	require.Contains(t, out, "legacy diverges from fixed in routes+lookups after op 3")
	require.Contains(t, out, "result of op 3: fixed ok, legacy ok")
	require.Regexp(t, `(?m)^    fixed +\| legacy$`, out)
	require.NotContains(t, out, "from the model")
	require.NotContains(t, out, "model ok")
	require.Regexp(t, `(?m)^saved: found/[0-9a-f]{12}-legacy-vs-fixed-bad\.txtar`, out)
	require.Contains(t, out, "reproduce: ")
	require.Contains(t, out, " check -sut legacy -vs fixed -seed 3 ")
	require.Regexp(t, `(?m)^routefuzz: sut=legacy-vs-fixed checks=\d+ steps=\d+ divergences=1 flaky=0 `, out)
	files, _ := filepath.Glob(filepath.Join(dir, "found", "*.txtar"))
	require.Len(t, files, 1)
	data, err := os.ReadFile(files[0])
	require.NoError(t, err)
	require.Contains(t, string(data), "\ndiverges: legacy-vs-fixed\n")

	out, code = run(t, dir, "replay", "found")
	require.Equal(t, 0, code, out)
	require.Regexp(t, `(?m)^replay legacy-vs-fixed 1 of 1 pair cases held`, out)
	require.Regexp(t, `(?m)^replay legacy +0 cases held`, out)
	out, code = run(t, dir, "replay", "-sut", "legacy-vs-fixed", "found")
	require.Equal(t, 0, code, out)
	require.Contains(t, out, "1 of 1 pair cases held")
}

// Two instances of a stack agree; a pair with nothing in common, or an
// unknown -vs stack, is an error before anything runs.
func TestCheckVsAgreesAndErrors(t *testing.T) {
	out, code := run(t, t.TempDir(), "check", "-sut", "fixed", "-vs", "fixed", "-seed", "1", "-checks", "50")
	require.Equal(t, 0, code, out)
	require.Regexp(t, `(?m)^routefuzz: sut=fixed-vs-fixed checks=50 steps=\d+ divergences=0 flaky=0 `, out)

	out, code = run(t, t.TempDir(), "check", "-sut", "fixed", "-vs", "nosuch")
	require.Equal(t, 2, code, out)
	require.Contains(t, out, `-vs: unknown stack "nosuch"`)
	out, code = run(t, t.TempDir(), "check", "-vs", "fixed")
	require.Equal(t, 2, code, out)
	require.Contains(t, out, "-vs needs -sut")
}

// -exec serves the side that is exec: the Go adapter around the fixed
// stack agrees with the fixed stack, whichever side it is on.
func TestCheckVsExec(t *testing.T) {
	dir := t.TempDir()
	prog := buildFixedStack(t, dir)
	for _, args := range [][]string{{"-sut", "exec", "-vs", "fixed"}, {"-sut", "fixed", "-vs", "exec"}} {
		out, code := run(t, dir, append([]string{"check", "-exec", prog, "-seed", "1", "-checks", "10"}, args...)...)
		require.Equal(t, 0, code, out)
		require.Contains(t, out, "divergences=0")
	}
	out, code := run(t, dir, "check", "-sut", "fixed", "-vs", "legacy", "-exec", prog)
	require.Equal(t, 2, code, out)
	require.Contains(t, out, "-exec is for -sut exec only")
}

// The kernel against the fixed stack: they agree once the kernel's
// recorded divergences are excluded, and without excluding
// linux-ipv6-prefix-metric the kernel is found to diverge from fixed,
// the report naming both.
func TestCheckLinuxVsFixed(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("the kernel stack needs root")
	}
	dir := t.TempDir()
	out, code := run(t, dir, "check", "-sut", "linux", "-vs", "fixed", "-seed", "5", "-checks", "30", "-exclude", "known")
	require.Equal(t, 0, code, out)
	require.Contains(t, out, "divergences=0 flaky=0")
	// Every recorded kernel divergence but linux-ipv6-prefix-metric.
	others := "linux-ipv4-change-noprefixroute,linux-ipv6-change-expires,linux-ipv6-nonpermanent,linux-ipv6-noprefixroute-sibling,linux-src-is-broadcast"
	out, code = run(t, dir, "check", "-sut", "linux", "-vs", "fixed", "-families", "6", "-adapters", "1", "-seed", "2", "-checks", "200", "-exclude", others)
	require.Equal(t, 1, code, out)
	require.Contains(t, out, "linux diverges from fixed in routes")
	require.Regexp(t, `(?m)^    fixed +\| linux$`, out)
	require.Contains(t, out, "metric")
}
