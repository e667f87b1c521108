package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// `routefuzz help`, `-h` and `--help` print every command with all its
// flags on stdout and exit 0; `help CMD` prints one command's flags.
func TestHelp(t *testing.T) {
	for _, arg := range []string{"help", "-h", "--help"} {
		out, code := run(t, t.TempDir(), arg)
		require.Equal(t, 0, code, out)
		for _, c := range commands {
			require.Contains(t, out, "routefuzz "+c.name, "%s lists every command", arg)
		}
		for _, flag := range []string{"-checks", "-seed", "-exclude", "-save", "-corpus", "-o"} {
			require.Contains(t, out, flag+" ", "%s lists every flag", arg)
		}
	}
	out, code := run(t, t.TempDir(), "help", "replay")
	require.Equal(t, 0, code, out)
	require.Contains(t, out, "-sut")
	out, code = run(t, t.TempDir(), "help", "nosuch")
	require.Equal(t, 2, code, out)
	require.Contains(t, out, `unknown command "nosuch"`)
}

// -exec (and -timeout) with a stack that takes none is an error, not
// silently ignored.
func TestExecOnlyWithExec(t *testing.T) {
	out, code := run(t, t.TempDir(), "check", "-sut", "fixed", "-exec", "./my-stack")
	require.Equal(t, 2, code, out)
	require.Contains(t, out, "-exec is for -sut exec only, not -sut fixed")
	out, code = run(t, t.TempDir(), "check", "-sut", "fixed", "-timeout", "1s")
	require.Equal(t, 2, code, out)
	require.Contains(t, out, "-timeout is for -sut exec only")
}

// The reproduce line asks for what was drawn: an IPv6-only program without
// metrics gets -families 6 -attrs=false, not the defaults.
func TestReproduceLineSaysWhatWasDrawn(t *testing.T) {
	dir := t.TempDir()
	prog := filepath.Join(dir, "v6only.sh")
	// Answers every op ok and reports no routes: it diverges at once.
	require.NoError(t, os.WriteFile(prog, []byte(`#!/bin/sh
while read l; do
  case "$l" in
    hello*) echo "hello routefuzz 1 families=6 metrics=0 promote=0";;
    routes|addrs) echo .;;
    *) echo ok;;
  esac
done
`), 0o755))
	out, code := run(t, dir, "check", "-sut", "exec", "-exec", prog, "-seed", "1", "-checks", "5")
	require.Equal(t, 1, code, out)
	var line string
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "reproduce: ") {
			line = l
		}
	}
	require.Contains(t, line, " -families 6 ", out)
	require.Contains(t, line, " -attrs=false", out)
	require.Contains(t, line, " -promote off ", out)
}

// buildFixedStack builds the Go example adapter into dir.
func buildFixedStack(t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "fixedstack")
	out, err := exec.Command("go", "build", "-o", bin, "../../examples/fixedstack").CombinedOutput()
	require.NoError(t, err, string(out))
	return bin
}

// A difference that does not reproduce from a fresh program start (the
// adapter leaves a route out of one answer, once) is not a divergence:
// check says DID NOT REPRODUCE, exits 3, and saves the order under a name
// that says flaky, never as diverging.
func TestFlakyIsNotADivergence(t *testing.T) {
	dir := t.TempDir()
	prog := buildFixedStack(t, dir) + " -glitch 40"
	out, code := run(t, dir, "check", "-sut", "exec", "-exec", prog, "-seed", "1", "-checks", "20", "-save", "found")
	require.Equal(t, 3, code, out)
	require.Contains(t, out, "DID NOT REPRODUCE")
	require.Regexp(t, summary, lastLine(out))
	require.Contains(t, lastLine(out), " divergences=0 flaky=1 ")
	saved, err := filepath.Glob(filepath.Join(dir, "found", "*.txtar"))
	require.NoError(t, err)
	require.Len(t, saved, 1, out)
	require.True(t, strings.HasSuffix(saved[0], "-exec-flaky.txtar"), saved[0])
	b, err := os.ReadFile(saved[0])
	require.NoError(t, err)
	require.NotContains(t, string(b), "diverges:")
	require.Contains(t, out, "saved: "+filepath.Join("found", filepath.Base(saved[0])))
}

// A program that crashes or hangs on an op has a bug that is shrunk like a
// divergence: check exits 1, prints the minimal order with what the
// program said, and saves it under a name that says crash or hang. The
// hang ends the run within a bounded number of timeouts.
func TestCrashAndHangAreFindings(t *testing.T) {
	for _, tc := range []struct{ name, onAdd, want, suffix string }{
		{"crash", `echo "dying on $l" >&2; exit 7`, "exec crashed on op 1", "-exec-crash.txtar"},
		{"hang", `sleep 3600`, "exec hung on op 1", "-exec-hang.txtar"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			prog := filepath.Join(dir, "prog.sh")
			require.NoError(t, os.WriteFile(prog, []byte(`#!/bin/sh
while read l; do
  case "$l" in
    hello*) echo "hello routefuzz 1 families=4 metrics=0 promote=0";;
    "add "*) `+tc.onAdd+`;;
    routes|addrs) echo .;;
    *) echo ok;;
  esac
done
`), 0o755))
			out, code := run(t, dir, "check", "-sut", "exec", "-exec", prog, "-timeout", "1s", "-seed", "1", "-save", "found")
			require.Equal(t, 1, code, out)
			require.Contains(t, out, tc.want)
			require.Contains(t, lastLine(out), " divergences=1 flaky=0 ")
			saved, _ := filepath.Glob(filepath.Join(dir, "found", "*.txtar"))
			require.Len(t, saved, 1, out)
			require.True(t, strings.HasSuffix(saved[0], tc.suffix), saved[0])
			if tc.name == "crash" {
				require.Contains(t, out, "dying on add", "the program's stderr is shown")
			}
		})
	}
}

// replay, minimize and promote refuse -exec with a stack that takes none,
// as check does.
func TestExecOnlyWithExecEverywhere(t *testing.T) {
	for _, args := range [][]string{
		{"replay", "-sut", "legacy", "-exec", "foo", "corpus"},
		{"minimize", "-sut", "legacy", "-exec", "foo", "x.txtar"},
		{"promote", "-sut", "legacy", "-exec", "foo", "x.txtar"},
	} {
		out, code := run(t, t.TempDir(), args...)
		require.Equal(t, 2, code, out)
		require.Contains(t, out, "-exec is for -sut exec only, not -sut legacy", args[0])
	}
}

// minimize gives no verdict to a case that does not fail the same way each
// time it is replayed: it says so and exits 3.
func TestMinimizeNeedsAFailureThatReproduces(t *testing.T) {
	dir := t.TempDir()
	prog := buildFixedStack(t, dir) + " -glitch 1"
	kase := "adapters: a0\nflaky: exec\n-- ops --\nadd a0 10.0.0.1/24\nadd a0 10.0.0.2/24\n"
	require.NoError(t, os.WriteFile(filepath.Join(dir, "c.txtar"), []byte(kase), 0o644))
	out, code := run(t, dir, "minimize", "-sut", "exec", "-exec", prog, "c.txtar")
	require.Equal(t, 3, code, out)
	require.Contains(t, out, "it did not reproduce")
	saved, _ := filepath.Glob(filepath.Join(dir, "*-exec-*.txtar"))
	require.Empty(t, saved, "no case written")
}

// replay of a directory with no cases is an error naming it, not "0 cases
// held" and exit 0: a wrong path in CI must not go green.
func TestReplayEmptyCorpus(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty")
	require.NoError(t, os.Mkdir(empty, 0o755))
	for _, args := range [][]string{
		{"replay", "empty"},
		{"replay", "-sut", "legacy", "empty"},
		{"replay", "-sut", "fixed,legacy", "empty"},
	} {
		out, code := run(t, dir, args...)
		require.Equal(t, 2, code, out)
		require.Contains(t, out, "empty: no cases", args)
		require.NotContains(t, out, "held", args)
	}
}

// A case whose op breaks the alphabet's rules is bad input: replay exits 2
// naming its line, rather than passing on every stack that refuses it.
func TestReplayRuleBreakingOp(t *testing.T) {
	dir := t.TempDir()
	for i, op := range []string{
		"add a0 10.0.0.1/24 valid_lft 600",
		"add a0 10.0.0.1/24 valid_lft 10 preferred_lft 5",
		"add a0 10.0.0.1/24 valid_lft 300 preferred_lft 600",
	} {
		name := filepath.Join(dir, "c"+string(rune('0'+i))+".txtar")
		require.NoError(t, os.WriteFile(name, []byte("adapters: a0\n-- ops --\nadd a0 10.0.0.2/24\n"+op+"\n"), 0o644))
		out, code := run(t, dir, "replay", "-sut", "fixed", name)
		require.Equal(t, 2, code, out)
		require.Contains(t, out, name+":4: "+op+": invalid", op)
	}
}
