package corpus

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/routefuzz/routefuzz/stacks"
)

// unavailable says why a stack is not replayed here although it could be
// opened (a stale adapter binary that this test run could not rebuild).
var unavailable = map[string]string{}

// TestMain builds the lwIP adapter for the "lwip" stack into a temporary
// directory, from examples/lwip/lwipstack.c with examples/lwip/build.sh,
// when liblwip-dev and a C compiler are installed, and points
// ROUTEFUZZ_LWIP at it, so that the corpus is replayed on lwIP. It
// installs nothing: without them, or when ROUTEFUZZ_LWIP is set already
// (then that binary is used), it builds nothing, and TestReplay skips
// lwip, saying why.
func TestMain(m *testing.M) {
	code, dir := 0, ""
	if os.Getenv(stacks.LwipEnv) == "" {
		var err error
		dir, err = os.MkdirTemp("", "routefuzz-corpus-lwip-")
		if err != nil {
			panic(err)
		}
		if bin, why := buildLwip(dir); why != "" {
			unavailable["lwip"] = why
		} else {
			os.Setenv(stacks.LwipEnv, bin)
		}
	}
	code = m.Run()
	if dir != "" {
		os.RemoveAll(dir)
	}
	os.Exit(code)
}

// buildLwip builds the lwIP adapter into dir, or says why it cannot.
func buildLwip(dir string) (string, string) {
	if _, err := os.Stat("/usr/include/lwip/lwip/netif.h"); err != nil {
		return "", "liblwip-dev is not installed (make lwip installs it, then set " + stacks.LwipEnv + "=bin/lwipstack)"
	}
	cc := ""
	for _, c := range []string{os.Getenv("CC"), "cc", "gcc", "clang"} {
		if c == "" {
			continue
		}
		if _, err := exec.LookPath(c); err == nil {
			cc = c
			break
		}
	}
	if cc == "" {
		return "", "no C compiler to build the lwIP adapter with"
	}
	bin := filepath.Join(dir, "lwipstack")
	out, err := exec.Command("sh", "../examples/lwip/build.sh", bin).CombinedOutput()
	if err != nil {
		return "", fmt.Sprintf("examples/lwip/build.sh: %v: %s", err, strings.TrimSpace(string(out)))
	}
	return bin, ""
}

// The lwIP cases are lwIP's documented policies: each names lwip in its
// verdict, and every other stack must agree on it.
func TestLwipCasesInCorpus(t *testing.T) {
	cases, err := LoadFiles(mustGlob(t, "lwip-*.txtar"))
	if err != nil {
		t.Fatal(err)
	}
	// Eight: the one IPv4 and five IPv6 addresses per netif, found
	// first, are declared now (ipv4_per_adapter=1 ipv6_per_adapter=5)
	// and never drawn (docs/lwip.md).
	if len(cases) != 8 {
		t.Errorf("%d lwIP cases, want 8", len(cases))
	}
	for _, c := range cases {
		if !c.ExpectsDivergence("lwip") || len(c.Named()) != 1 {
			t.Errorf("%s: verdicts %v, want diverges: lwip alone", c.Path, c.Named())
		}
	}
}

func mustGlob(t *testing.T, pattern string) []string {
	t.Helper()
	ps, err := filepath.Glob(pattern)
	if err != nil || len(ps) == 0 {
		t.Fatalf("no %s: %v", pattern, err)
	}
	return ps
}

// Without its adapter, the lwip stack does not open, and says how to
// build it.
func TestLwipNotBuilt(t *testing.T) {
	t.Setenv(stacks.LwipEnv, filepath.Join(t.TempDir(), "lwipstack"))
	_, err := stacks.Open("lwip", stacks.Options{})
	if !errors.Is(err, stacks.ErrLwipNotBuilt) || !strings.Contains(err.Error(), "make lwip") || !strings.Contains(err.Error(), stacks.LwipEnv) {
		t.Fatalf("opening lwip without its adapter: %v", err)
	}
}
