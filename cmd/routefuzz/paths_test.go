package main

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"
)

// A -report path that holds something other than a regular file, or whose
// directory is missing, and a -save that cannot be a directory, are
// refused before the search starts (exit 2, naming the path and what it
// is), and the summary is still the last line. What the path held is left
// as it was.
func TestOutputPathsCheckedFirst(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, syscall.Mkfifo(filepath.Join(dir, "fifo"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "target"), []byte("keep\n"), 0o644))
	require.NoError(t, os.Symlink("target", filepath.Join(dir, "link")))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "file"), nil, 0o644))
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-report", "fifo"}, "-report fifo: fifo is a FIFO, not a regular file; refusing to replace it"},
		{[]string{"-report", "link"}, "-report link: link is a symbolic link, not a regular file; refusing to replace it"},
		{[]string{"-report", "."}, "-report .: . is a directory, not a regular file"},
		{[]string{"-report", "nodir/r.json"}, "-report nodir/r.json: directory nodir does not exist"},
		{[]string{"-report", "file/r.json"}, "-report file/r.json: file is a regular file, not a directory"},
		{[]string{"-save", "file"}, "-save file: "},
		{[]string{"-save", "file/found"}, "-save file/found: "},
	} {
		// legacy diverges at this seed: exit 1 if the search ran.
		out, code := run(t, dir, append([]string{"check", "-sut", "legacy", "-seed", "3"}, tc.args...)...)
		require.Equal(t, 2, code, out)
		require.Contains(t, out, "routefuzz: "+tc.want, out)
		require.NotContains(t, out, "checking legacy", "the search did not start")
		require.Regexp(t, summary, lastLine(out))
	}
	fi, err := os.Lstat(filepath.Join(dir, "fifo"))
	require.NoError(t, err)
	require.Equal(t, os.ModeNamedPipe, fi.Mode().Type())
	fi, err = os.Lstat(filepath.Join(dir, "link"))
	require.NoError(t, err)
	require.Equal(t, os.ModeSymlink, fi.Mode().Type())
	b, err := os.ReadFile(filepath.Join(dir, "target"))
	require.NoError(t, err)
	require.Equal(t, "keep\n", string(b))

	// A -report given with a bad command line is refused too.
	out, code := run(t, dir, "check", "-report", "fifo", "extra")
	require.Equal(t, 2, code, out)
	require.Contains(t, out, "fifo is a FIFO")
	fi, err = os.Lstat(filepath.Join(dir, "fifo"))
	require.NoError(t, err)
	require.Equal(t, os.ModeNamedPipe, fi.Mode().Type())

	// A regular file is replaced, and a -save directory is made.
	out, code = run(t, dir, "check", "-sut", "legacy", "-seed", "3", "-report", "target", "-save", "new/found")
	require.Equal(t, 1, code, out)
	require.Regexp(t, summary, lastLine(out))
	r := readReport(t, filepath.Join(dir, "target"))
	require.Equal(t, verdictDiverged, r.Verdict)
	require.NotNil(t, r.Saved)
	require.True(t, strings.HasPrefix(r.Saved.Case, "new/found/"), r.Saved.Case)
}
