package bytefuzz

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/routefuzz/routefuzz/corpus"
)

// libFuzzerTools says what is missing to build libFuzzer binaries here, or
// "" when nothing is.
func libFuzzerTools() string {
	var missing []string
	if _, err := exec.LookPath("clang-14"); err != nil {
		missing = append(missing, "clang-14")
	}
	if m, _ := filepath.Glob("/usr/lib/llvm-14/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a"); len(m) == 0 {
		missing = append(missing, "libclang-rt-14-dev (libFuzzer)")
	}
	gopath, _ := exec.Command("go", "env", "GOPATH").Output()
	if _, err := exec.LookPath("go-118-fuzz-build"); err != nil {
		if _, err := os.Stat(filepath.Join(strings.TrimSpace(string(gopath)), "bin", "go-118-fuzz-build")); err != nil {
			missing = append(missing, "go-118-fuzz-build")
		}
	}
	if len(missing) == 0 {
		return ""
	}
	return "missing " + strings.Join(missing, ", ") + " (.ci/run installs them: apt-get install clang-14 libclang-rt-14-dev; " +
		"go install github.com/AdamKorcz/go-118-fuzz-build@v0.0.0-20250520111509-a70c2aa677fa)"
}

// The whole libFuzzer path, as ClusterFuzzLite takes it: build.sh builds
// FuzzFixed and FuzzLegacy with go-118-fuzz-build and clang; FuzzFixed
// runs clean; FuzzLegacy finds KB287032 and libFuzzer saves its input;
// the target has saved the case to ROUTEFUZZ_FOUND; the decode command
// turns the crash file into the same case; routefuzz minimize shrinks it
// to the three-op KB287032 order.
func TestLibFuzzer(t *testing.T) {
	if testing.Short() {
		t.Skip("builds libFuzzer binaries: not with -short")
	}
	if why := libFuzzerTools(); why != "" {
		t.Skip(why)
	}
	root, err := filepath.Abs("..")
	require.NoError(t, err)
	dir := t.TempDir()
	work := filepath.Join(dir, "work")

	cmd := exec.Command(filepath.Join(root, "scripts", "libfuzzer.sh"), "build")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "LIBFUZZER_WORK="+work, "TARGETS=FuzzFixed FuzzLegacy")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "scripts/libfuzzer.sh build:\n%s", out)
	t.Logf("%s", out)
	bin := filepath.Join(work, "bin")
	build := func(name, pkg string) string {
		exe := filepath.Join(dir, name)
		c := exec.Command("go", "build", "-o", exe, pkg)
		c.Dir = root
		out, err := c.CombinedOutput()
		require.NoError(t, err, "go build %s:\n%s", pkg, out)
		return exe
	}
	decode, routefuzz := build("decode", "./bytefuzz/cmd/decode"), build("routefuzz", "./cmd/routefuzz")
	seeds := filepath.Join(dir, "seeds")
	out, err = exec.Command(decode, "-seeds", seeds).CombinedOutput()
	require.NoError(t, err, "decode -seeds:\n%s", out)

	// FuzzFixed: the correct stack never fails.
	fixed := exec.Command(filepath.Join(bin, "FuzzFixed"), "-seed=1", "-runs=3000", seeds)
	fixed.Dir = dir
	out, err = fixed.CombinedOutput()
	require.NoError(t, err, "FuzzFixed:\n%s", tail(out))

	// FuzzLegacy finds KB287032.
	found := filepath.Join(dir, "found")
	start := time.Now()
	legacy := exec.Command(filepath.Join(bin, "FuzzLegacy"), "-seed=1", "-max_total_time=600", "-artifact_prefix="+dir+"/", filepath.Join(dir, "corpus"))
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "corpus"), 0o755))
	legacy.Dir = dir
	legacy.Env = append(os.Environ(), FoundEnv+"="+found)
	out, err = legacy.CombinedOutput()
	var ee *exec.ExitError
	require.True(t, errors.As(err, &ee), "FuzzLegacy found nothing in %v:\n%s", time.Since(start), tail(out))
	require.Contains(t, string(out), "legacy diverges from the model", "%s", tail(out))
	t.Logf("FuzzLegacy found a divergence in %v", time.Since(start))
	crashes, _ := filepath.Glob(filepath.Join(dir, "crash-*"))
	require.Len(t, crashes, 1, "libFuzzer's crash file:\n%s", tail(out))
	saved, _ := filepath.Glob(filepath.Join(found, "*-legacy-bad.txtar"))
	require.Len(t, saved, 1, "the case FuzzLegacy saved to %s", FoundEnv)

	// The crash file decodes to the case the target saved.
	c := exec.Command(decode, "-sut", "legacy", crashes[0])
	decoded, err := c.Output()
	require.NoError(t, err, "decode %s", crashes[0])
	casePath := filepath.Join(dir, "case.txtar")
	require.NoError(t, os.WriteFile(casePath, decoded, 0o644))
	cases, err := corpus.LoadFiles([]string{casePath, saved[0]})
	require.NoError(t, err)
	require.Equal(t, cases[1].Ops, cases[0].Ops, "the decoded crash file and the saved case")
	require.Equal(t, []string{"legacy"}, cases[0].Diverges)

	// routefuzz minimize takes it to KB287032's three ops.
	c = exec.Command(routefuzz, "minimize", "-sut", "legacy", "-o", filepath.Join(dir, "min"), casePath)
	out, err = c.CombinedOutput()
	require.NoError(t, err, "routefuzz minimize:\n%s", out)
	mins, _ := filepath.Glob(filepath.Join(dir, "min", "*.txtar"))
	require.Len(t, mins, 1)
	cases, err = corpus.LoadFiles(mins)
	require.NoError(t, err)
	require.Len(t, cases[0].Ops, 3, "%s", out)
	require.Equal(t, []string{"legacy"}, cases[0].Diverges)
}

func tail(b []byte) string {
	lines := strings.Split(string(b), "\n")
	if len(lines) > 40 {
		lines = lines[len(lines)-40:]
	}
	return strings.Join(lines, "\n")
}
