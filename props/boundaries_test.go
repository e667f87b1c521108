package props

import (
	"os/exec"
	"strings"
	"testing"
)

// The package boundaries of STYLE.md: model/ is the oracle and imports the
// standard library only; no stack imports rapid or testify; only props
// knows rapid.
func TestPackageBoundaries(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("needs the go command to list dependencies: not on PATH")
	}
	list := func(args ...string) []string {
		out, err := exec.Command(goBin, append([]string{"list"}, args...)...).Output()
		if err != nil {
			t.Fatalf("go list %v: %v", args, err)
		}
		return strings.Fields(string(out))
	}
	for _, dep := range list("-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", "github.com/routefuzz/routefuzz/model") {
		if dep != "github.com/routefuzz/routefuzz/model" {
			t.Errorf("model imports %s: it must import only the standard library", dep)
		}
	}
	for _, pkg := range list("github.com/routefuzz/routefuzz/...") {
		if strings.HasSuffix(pkg, "/props") || strings.Contains(pkg, "/cmd/") || strings.Contains(pkg, "/examples/") {
			continue
		}
		for _, dep := range list("-deps", pkg) {
			if strings.HasPrefix(dep, "pgregory.net/rapid") || strings.HasPrefix(dep, "github.com/stretchr/testify") {
				t.Errorf("%s depends on %s: only props may know rapid, and no stack may use testify", pkg, dep)
			}
		}
	}
}
