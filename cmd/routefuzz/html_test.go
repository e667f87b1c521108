package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/routefuzz/routefuzz/sut/legacy"
)

// The HTML report beside a saved case shows every step, traced on the
// stack, with the seed and the command line that reproduces the run.
func TestSavedHTMLShowsEveryStep(t *testing.T) {
	s := caseSaver{dir: filepath.Join(t.TempDir(), "found"), reproduce: "routefuzz check -sut legacy -seed 42", seed: 42, stack: legacy.New()}
	d := divergence(t, "add a0 10.0.0.1/24", "add a2 10.0.5.1/24", "add a1 10.0.0.2/24", "del a1 10.0.0.2/24")
	s.found(d)
	capture(t, &os.Stdout, func() { s.printSaved(d) })
	b, err := os.ReadFile(htmlPath(s.path))
	require.NoError(t, err)
	h := string(b)
	for n := range len(d.Ops) + 1 {
		require.Contains(t, h, fmt.Sprintf(`id="step-%d" data-step="%d"`, n, n))
	}
	require.Contains(t, h, `<details class="step diverges" id="step-4" data-step="4" open>`)
	require.Contains(t, h, `<code id="seed">42</code>`)
	require.Contains(t, h, `<pre id="command">routefuzz check -sut legacy -seed 42</pre>`)
	require.False(t, strings.Contains(h, `class="note"`), "the trace fails as the run did")
}
