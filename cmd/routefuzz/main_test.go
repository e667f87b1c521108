package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/routefuzz/routefuzz/corpus"
	"github.com/routefuzz/routefuzz/model"
	"github.com/routefuzz/routefuzz/stacks"
	"github.com/routefuzz/routefuzz/sut"
)

var bin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "routefuzz-cmd")
	if err != nil {
		panic(err)
	}
	bin = filepath.Join(dir, "routefuzz")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		panic(string(out))
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// run runs the command in dir and returns its output and exit code.
func run(t *testing.T, dir string, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return string(out), ee.ExitCode()
	}
	require.NoError(t, err)
	return string(out), 0
}

var summary = regexp.MustCompile(`^routefuzz: sut=(\w+) checks=(\d+) steps=(\d+) divergences=(\d+) flaky=(\d+) elapsed=\S+$`)

func lastLine(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return lines[len(lines)-1]
}

func TestCheckFixedPasses(t *testing.T) {
	out, code := run(t, t.TempDir(), "check", "-sut", "fixed", "-checks", "50", "-seed", "1")
	require.Equal(t, 0, code, out)
	m := summary.FindStringSubmatch(lastLine(out))
	require.NotNil(t, m, "last line is not the summary:\n%s", out)
	require.Equal(t, []string{"fixed", "50"}, m[1:3])
	require.Equal(t, "0", m[4])
}

func TestCheckLegacySavesAndFails(t *testing.T) {
	dir := t.TempDir()
	out, code := run(t, dir, "check", "-sut", "legacy", "-seed", "1", "-save", "found")
	require.Equal(t, 1, code, out)
	m := summary.FindStringSubmatch(lastLine(out))
	require.NotNil(t, m, "last line is not the summary:\n%s", out)
	require.Equal(t, "1", m[4])
	require.Contains(t, out, "routes (- missing from legacy, + extra in legacy)")
	files, _ := filepath.Glob(filepath.Join(dir, "found", "*.txtar"))
	require.Len(t, files, 1, "want exactly the minimal case saved:\n%s", out)
	html, err := os.ReadFile(strings.TrimSuffix(files[0], ".txtar") + ".html")
	require.NoError(t, err, "no HTML report beside the case")
	require.Contains(t, string(html), "legacy diverges from the model in routes")
	cases, err := corpus.LoadFiles(files)
	require.NoError(t, err)
	require.Len(t, cases[0].Ops, 3)
	os.Remove(strings.TrimSuffix(files[0], ".txtar") + ".html")
	require.Equal(t, []string{"a0", "a1"}, cases[0].Adapters, "adapters not canonical")
	require.Equal(t, []string{"legacy"}, cases[0].Diverges)

	// One command moves it into a corpus, which then replays clean.
	out, code = run(t, dir, "promote", "-corpus", "corpus", files[0])
	require.Equal(t, 0, code, out)
	_, err = os.Stat(files[0])
	require.True(t, os.IsNotExist(err), "promote left the found file behind")
	out, code = run(t, dir, "replay", "-sut", "legacy", "corpus")
	require.Equal(t, 0, code, out)
	require.Contains(t, out, "1 cases held")
}

func TestHunt(t *testing.T) {
	out, code := run(t, t.TempDir(), "hunt", "-seed", "5")
	require.Equal(t, 0, code, out)
	require.Contains(t, out, "KB287032 reproduced on legacy")
	require.Contains(t, out, ">   3  del ")
}

func TestMinimizeCommand(t *testing.T) {
	dir := t.TempDir()
	long := "adapters: a0 a1 a2\ndiverges: legacy\n-- ops --\n" + strings.Join([]string{
		"add a2 10.0.1.1/24", "add a0 2001:db8::1/64 metric 100", "add a0 10.0.0.1/24 metric 5",
		"add a1 10.0.0.7/16", "del a2 10.0.1.1/24", "add a2 10.0.0.9/24", "add a1 10.0.1.3/32",
		"del a2 10.0.0.9/24", "add a0 10.0.1.4/24",
	}, "\n") + "\n"
	require.NoError(t, os.WriteFile(filepath.Join(dir, "long.txtar"), []byte(long), 0o644))
	out, code := run(t, dir, "minimize", "-sut", "legacy", "-o", "min", "long.txtar")
	require.Equal(t, 0, code, out)
	files, _ := filepath.Glob(filepath.Join(dir, "min", "*.txtar"))
	require.Len(t, files, 1)
	cases, err := corpus.LoadFiles(files)
	require.NoError(t, err)
	require.Len(t, cases[0].Ops, 3, out)
}

func TestBadInput(t *testing.T) {
	dir := t.TempDir()
	out, code := run(t, dir, "check", "-sut", "nosuch")
	require.Equal(t, 2, code)
	require.Contains(t, out, `unknown stack "nosuch"`)
	out, code = run(t, dir, "check", "-sut", "fixed", "-promote", "maybe")
	require.Equal(t, 2, code)
	require.Contains(t, out, "-promote: want on, off or auto")
	require.NoError(t, os.WriteFile(filepath.Join(dir, "bad.txtar"), []byte("-- ops --\nadd a0 10.0.0.1\n"), 0o644))
	out, code = run(t, dir, "replay", "bad.txtar")
	require.Equal(t, 2, code)
	require.Contains(t, out, "bad.txtar:2: address \"10.0.0.1\" has no prefix length")
	_, code = run(t, dir, "frobnicate")
	require.Equal(t, 2, code)
}

// promote records every stack that diverges, whatever the file said, and
// refuses a case whose named stack agrees.
func TestPromoteRecordsWhatDiverges(t *testing.T) {
	dir := t.TempDir()
	kb := "-- ops --\nadd a0 10.0.0.1/24\nadd a1 10.0.0.2/24\ndel a1 10.0.0.2/24\n"
	require.NoError(t, os.WriteFile(filepath.Join(dir, "kb.txtar"), []byte(kb), 0o644))
	out, code := run(t, dir, "promote", "-corpus", "c", "kb.txtar")
	require.Equal(t, 0, code, out)
	require.Contains(t, out, "diverges: legacy")
	files, _ := filepath.Glob(filepath.Join(dir, "c", "*.txtar"))
	require.Len(t, files, 1)
	cases, err := corpus.LoadFiles(files)
	require.NoError(t, err)
	require.Equal(t, []string{"legacy"}, cases[0].Diverges)

	fine := "diverges: legacy\n-- ops --\nadd a0 10.0.0.1/24\n"
	require.NoError(t, os.WriteFile(filepath.Join(dir, "fine.txtar"), []byte(fine), 0o644))
	out, code = run(t, dir, "promote", "-corpus", "c", "fine.txtar")
	require.Equal(t, 2, code, out)
	require.Contains(t, out, "says it diverges on legacy, but legacy agrees")
}

// A stack that fails outside its semantics is a harness failure: exit 2,
// never a divergence, and the summary is still the last line, whether the
// program dies at the handshake or later.
func TestHarnessFailureExit(t *testing.T) {
	for _, prog := range []string{
		`sh -c 'echo broken >&2; exit 3'`,
		`sh -c 'read l; echo hello routefuzz 1; read l; echo broken >&2; exit 3'`,
	} {
		out, code := run(t, t.TempDir(), "check", "-sut", "exec", "-exec", prog, "-checks", "5", "-seed", "1")
		require.Equal(t, 2, code, out)
		require.Contains(t, out, "exited with status 3")
		require.Contains(t, out, "broken")
		require.NotContains(t, out, "diverges from the model")
		m := summary.FindStringSubmatch(lastLine(out))
		require.NotNil(t, m, "last line is not the summary:\n%s", out)
		require.Equal(t, "0", m[4])
	}
}

// The saved case holds the order the report shows, after delta debugging
// simplified rapid's.
func TestSavedCaseMatchesReport(t *testing.T) {
	dir := t.TempDir()
	out, code := run(t, dir, "hunt", "-seed", "7", "-save", "f")
	require.Equal(t, 0, code, out)
	files, _ := filepath.Glob(filepath.Join(dir, "f", "*.txtar"))
	require.Len(t, files, 1, out)
	cases, err := corpus.LoadFiles(files)
	require.NoError(t, err)
	for i, op := range cases[0].Ops {
		require.Contains(t, out, fmt.Sprintf("%3d  %s\n", i+1, op), "saved op %d is not in the report:\n%s", i+1, out)
	}
}

// A program that dies during replay after its handshake has crashed: its
// own bug, so each case it dies on fails (exit 1), and the replay goes on
// with the next case. (Until sut/process reports that as sut.ErrCrash, it
// is a harness failure: exit 2, and that stack stops.)
func TestReplayProgramDies(t *testing.T) {
	prog := `sh -c 'read l; echo hello routefuzz 1 promote=0; while read l; do case "$l" in routes|addrs) echo .;; add*|del*) exit 3;; *) echo ok;; esac; done'`
	corpusDir, err := filepath.Abs("../../corpus")
	require.NoError(t, err)
	out, code := run(t, t.TempDir(), "replay", "-sut", "exec", "-exec", prog, corpusDir)
	if crashIsFinding(t, prog) {
		require.Equal(t, 1, code, out)
		require.Contains(t, out, "exec crashed on op 1")
		require.Regexp(t, `(?s)crashed on op 1.*\nFAIL .*crashed on op 1`, out, "the replay stopped at the first crash")
		require.Contains(t, out, "harness-failures=0")
		require.NotContains(t, out, "HARNESS FAILURE")
		return
	}
	require.Equal(t, 2, code, out)
	require.Contains(t, out, "HARNESS FAILURE")
	require.Contains(t, out, "harness-failures=1")
	require.NotContains(t, out, "\nFAIL ")
}

// A divergence of the user's own program is promoted as a case it must
// agree on once fixed: replay fails on the buggy program and holds on the
// fixed one.
func TestPromoteExternalAsRegression(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("needs python3 for the example stack")
	}
	// The interpreter itself, not a version manager's slow shim.
	if out, err := exec.Command(py, "-c", "import sys; print(sys.executable)").Output(); err == nil && len(out) > 1 {
		py = strings.TrimSpace(string(out))
	}
	script, err := filepath.Abs("../../examples/buggy_stack.py")
	require.NoError(t, err)
	dir := t.TempDir()
	found := "adapters: a0\ndiverges: exec\n-- ops --\nadd a0 2001:db8::1/64\nadd a0 2001:db8::2/64\ndel a0 2001:db8::1/64\n"
	require.NoError(t, os.WriteFile(filepath.Join(dir, "found.txtar"), []byte(found), 0o644))
	buggy := py + " " + script
	out, code := run(t, dir, "promote", "-corpus", "c", "-exec", buggy, "-timeout", "1m", "found.txtar")
	require.Equal(t, 0, code, out)
	require.Contains(t, out, "recorded as a regression case")
	out, code = run(t, dir, "replay", "-sut", "exec", "-exec", buggy, "-timeout", "1m", "c")
	require.Equal(t, 1, code, out)
	out, code = run(t, dir, "replay", "-sut", "exec", "-exec", buggy+" --fixed", "-timeout", "1m", "c")
	require.Equal(t, 0, code, out)
}

// SIGINT ends the run and the program, even one that ignores the end of
// its input and the signal itself.
func TestSIGINTKillsTheProgram(t *testing.T) {
	dir := t.TempDir()
	pidFile := filepath.Join(dir, "pid")
	script := filepath.Join(dir, "stubborn.sh")
	require.NoError(t, os.WriteFile(script, []byte(`#!/bin/sh
echo $$ > `+pidFile+`
trap '' INT TERM
while true; do
  if read l; then
    case "$l" in
      hello*) echo "hello routefuzz 1";;
      routes|addrs) ;; # never answers: the run waits on it
      *) echo ok;;
    esac
  fi
done
`), 0o755))
	cmd := exec.Command(bin, "check", "-sut", "exec", "-exec", script, "-checks", "1000000", "-seed", "1")
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	require.NoError(t, cmd.Start())
	var pid int
	for range 500 {
		if b, err := os.ReadFile(pidFile); err == nil && len(b) > 1 {
			fmt.Sscan(string(b), &pid)
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	require.NotZero(t, pid, "the program never started")
	require.NoError(t, cmd.Process.Signal(syscall.SIGINT))
	err := cmd.Wait()
	var ee *exec.ExitError
	require.ErrorAs(t, err, &ee)
	require.Equal(t, 130, ee.ExitCode(), out.String())
	require.Regexp(t, summary, lastLine(out.String()), "the summary is the last line")
	// The group was killed before routefuzz exited: the program is gone
	// or a zombie awaiting its new parent.
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err == nil {
		require.Contains(t, string(b), ") Z ", "the program outlived the run: %s", b)
	}
}

// stub writes a shell program that speaks the protocol for IPv6 only and
// answers every delete with notfound, or exits with status 3 on a delete
// when $STUB_CRASH is set. It agrees with the model on cases that delete
// addresses that are not there.
func stub(t *testing.T, dir string) string {
	t.Helper()
	script := filepath.Join(dir, "stub.sh")
	require.NoError(t, os.WriteFile(script, []byte(`#!/bin/sh
while read l; do
  case "$l" in
    hello*) echo "hello routefuzz 1 families=6 metrics=1";;
    routes|addrs) echo .;;
    del*) if [ -n "$STUB_CRASH" ]; then echo "stub: crashing on $l" >&2; exit 3; fi; echo "err notfound not there";;
    *) echo ok;;
  esac
done
`), 0o755))
	return script
}

func writeCase(t *testing.T, dir, name, text string) {
	t.Helper()
	require.NoError(t, os.MkdirAll(dir, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644))
}

// replay names every case it skips, with the reason, and goes on.
func TestReplayNamesSkippedCases(t *testing.T) {
	dir := t.TempDir()
	prog := stub(t, dir)
	writeCase(t, filepath.Join(dir, "c"), "v4-ok.txtar", "-- ops --\ndel a0 10.0.0.1/24\n")
	writeCase(t, filepath.Join(dir, "c"), "v6-ok.txtar", "-- ops --\ndel a0 2001:db8::1/64\n")
	out, code := run(t, dir, "replay", "-sut", "exec", "-exec", prog, "c")
	require.Equal(t, 0, code, out)
	require.Regexp(t, `(?m)^skip +c/v4-ok.txtar on exec: skipped: IPv4 not supported$`, out)
	require.Contains(t, out, "1 cases held, 1 skipped")
}

// A case the kernel's Reset refuses (an adapter named lo) is skipped with
// the reason, and the other cases are still replayed.
func TestReplayLinuxSkipsUnsupported(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("the kernel stack needs root")
	}
	dir := t.TempDir()
	writeCase(t, dir, "lo-ok.txtar", "adapters: lo\n-- ops --\nadd lo 10.0.0.1/24\n")
	writeCase(t, dir, "zz-ok.txtar", "-- ops --\nadd a0 10.0.0.1/24\n")
	out, code := run(t, dir, "replay", "-sut", "linux", ".")
	require.Equal(t, 0, code, out)
	require.Regexp(t, `(?m)^skip +lo-ok.txtar on linux: skipped: .*loopback`, out)
	require.Contains(t, out, "1 cases held, 1 skipped")
	require.NotContains(t, out, "HARNESS FAILURE")
}

// A flaky case is replayed and reported, never failed; promote refuses it.
func TestFlakyCase(t *testing.T) {
	dir := t.TempDir()
	writeCase(t, filepath.Join(dir, "f"), "kb-legacy-flaky.txtar", "# diverged once\nflaky: legacy\n-- ops --\nadd a0 10.0.0.1/24\nadd a1 10.0.0.2/24\ndel a1 10.0.0.2/24\n")
	out, code := run(t, dir, "replay", "-sut", "legacy", "f")
	require.Equal(t, 0, code, out)
	require.Contains(t, out, "FLAKY f/kb-legacy-flaky.txtar on legacy: flaky: diverges from the model in routes+lookups again, at f/kb-legacy-flaky.txtar:6")
	require.Contains(t, out, "0 cases held, 0 skipped, 1 flaky")
	out, code = run(t, dir, "replay", "-sut", "fixed", "f")
	require.Equal(t, 0, code, out)
	require.Contains(t, out, "1 cases held")

	out, code = run(t, dir, "promote", "-corpus", "c", "f/kb-legacy-flaky.txtar")
	require.Equal(t, 2, code, out)
	require.Contains(t, out, "not promoted: f/kb-legacy-flaky.txtar is flaky on legacy")
	require.Contains(t, out, "minimize -sut legacy f/kb-legacy-flaky.txtar")
	_, err := os.Stat(filepath.Join(dir, "c"))
	require.True(t, os.IsNotExist(err), "promote wrote something")
}

// The user's own program's crash is promoted as a case it must agree on:
// replay fails while it crashes and holds once it no longer does.
func TestPromoteExternalCrash(t *testing.T) {
	dir := t.TempDir()
	prog := stub(t, dir)
	writeCase(t, dir, "found-exec-crash.txtar", "crashes: exec\n-- ops --\ndel a0 2001:db8::1/64\n")
	t.Setenv("STUB_CRASH", "1")
	if !crashIsFinding(t, prog) {
		t.Skip("sut/process does not yet report a program's exit as sut.ErrCrash")
	}
	out, code := run(t, dir, "promote", "-corpus", "c", "-exec", prog, "found-exec-crash.txtar")
	require.Equal(t, 0, code, out)
	require.Contains(t, out, "recorded as a regression case that exec must agree on")
	require.Contains(t, out, "(every stack agrees)")
	files, _ := filepath.Glob(filepath.Join(dir, "c", "*-ok.txtar"))
	require.Len(t, files, 1, out)
	out, code = run(t, dir, "replay", "-sut", "exec", "-exec", prog, "c")
	require.Equal(t, 1, code, out)
	require.Contains(t, out, "exec crashed on op 1")
	t.Setenv("STUB_CRASH", "")
	out, code = run(t, dir, "replay", "-sut", "exec", "-exec", prog, "c")
	require.Equal(t, 0, code, out)
}

// crashIsFinding reports whether the exec stack reports prog's exit on a
// delete as a crash (sut.ErrCrash), the stack's own bug.
func crashIsFinding(t *testing.T, prog string) bool {
	t.Helper()
	stack, err := stacks.Open("exec", stacks.Options{Exec: prog})
	require.NoError(t, err)
	defer stack.Close()
	require.NoError(t, stack.Reset(model.Config{Adapters: []string{"a0"}}))
	err = stack.Apply(model.MustParseOp("del a0 2001:db8::1/64"))
	require.Error(t, err)
	return errors.Is(err, sut.ErrCrash)
}
