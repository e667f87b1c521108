package main

import (
	"os"
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
// metrics gets -families 6 -metrics=false, not the defaults.
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
	require.Contains(t, line, " -metrics=false", out)
	require.Contains(t, line, " -promote off ", out)
}
