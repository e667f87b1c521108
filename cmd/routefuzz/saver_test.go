package main

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/routefuzz/routefuzz/check"
	"github.com/routefuzz/routefuzz/model"
	"github.com/routefuzz/routefuzz/sut/legacy"
)

func divergence(t *testing.T, ops ...string) *check.Divergence {
	t.Helper()
	var parsed []model.Op
	for _, o := range ops {
		parsed = append(parsed, model.MustParseOp(o))
	}
	d, err := check.Replay("legacy", legacy.New(), model.Config{Adapters: []string{"a0", "a1", "a2"}}, parsed, nil)
	require.NoError(t, err)
	require.NotNil(t, d)
	return d
}

// capture runs f with *file (os.Stdout or os.Stderr) going to a pipe, and
// returns what f wrote there.
func capture(t *testing.T, file **os.File, f func()) string {
	t.Helper()
	r, w, err := os.Pipe()
	require.NoError(t, err)
	saved := *file
	*file = w
	f()
	*file = saved
	w.Close()
	b := new(strings.Builder)
	_, err = io.Copy(b, r)
	require.NoError(t, err)
	return b.String()
}

// When a later save fails (a full disk), the saved: line does not name
// the earlier file as if it held the order the report shows, no empty
// file is left, and the order that could not be saved is printed in full
// at once.
func TestSavedLineNamesWhatTheReportShows(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "found")
	s := caseSaver{dir: dir, reproduce: "routefuzz check …"}
	long := divergence(t, "add a0 10.0.0.1/24", "add a2 10.0.5.1/24", "add a1 10.0.0.2/24", "del a1 10.0.0.2/24")
	s.found(long)
	first := s.path
	require.FileExists(t, first)

	// The directory becomes unwritable: here, a file takes its place.
	require.NoError(t, os.Rename(dir, dir+".old"))
	require.NoError(t, os.WriteFile(dir, nil, 0o644))
	short := divergence(t, "add a0 10.0.0.1/24", "add a1 10.0.0.2/24", "del a1 10.0.0.2/24")
	stderr := capture(t, &os.Stderr, func() { s.found(short) })
	require.Contains(t, stderr, "cannot save the failing order")
	require.Contains(t, stderr, check.FormatOps(short.Ops), "the order is printed in full")
	// Said once: a shorter order that cannot be saved either is not
	// printed again (the report shows the shortest).
	shorter := divergence(t, "add a0 10.0.0.1/24", "add a1 10.0.0.2/24", "del a1 10.0.0.2/24")
	stderr = capture(t, &os.Stderr, func() { s.found(shorter); s.found(short) })
	require.Empty(t, stderr)

	out := capture(t, &os.Stdout, func() { s.printSaved(short) })
	require.True(t, strings.HasPrefix(out, "saved: nothing: saving the order shown failed"), out)
	require.Contains(t, out, first+" holds an earlier, longer order")

	// Saved files are 0644, and an HTML report sits beside the case.
	require.NoError(t, os.Remove(dir))
	require.NoError(t, os.Rename(dir+".old", dir))
	s.found(short)
	out = capture(t, &os.Stdout, func() { s.printSaved(short) })
	require.Equal(t, "saved: "+s.path+" (report: "+htmlPath(s.path)+")\n", out)
	for _, p := range []string{s.path, htmlPath(s.path)} {
		fi, err := os.Stat(p)
		require.NoError(t, err)
		require.Equal(t, os.FileMode(0o644), fi.Mode().Perm(), p)
		require.NotZero(t, fi.Size(), p)
	}
	require.NoFileExists(t, first, "the longer order's file is replaced")
}

// hunt calls a divergence KB287032 only when it has the KB's shape: a
// delete on one of several adapters leaves the routes wrong.
func TestKBShaped(t *testing.T) {
	require.True(t, kbShaped(divergence(t, "add a0 10.0.0.1/24", "add a1 10.0.0.2/24", "del a1 10.0.0.2/24")))
	d := divergence(t, "add a0 10.0.0.1/24", "add a1 10.0.0.2/24", "del a1 10.0.0.2/24")
	d.Ops = d.Ops[:1]
	require.False(t, kbShaped(d), "one adapter, no delete")
}
