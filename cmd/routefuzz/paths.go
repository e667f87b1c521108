package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// checkOutputFile checks, before a run, that path (given to flag) can take
// a file written as corpus.WriteFile does, by renaming a new file over it:
// nothing is there, or a regular file, which is replaced. Anything else (a
// device, a FIFO, a symbolic link, a directory) would be replaced by a
// regular file, or not at all, so it is refused. path's directory must
// exist.
func checkOutputFile(flag, path string) error {
	fi, err := os.Lstat(path)
	switch {
	case err == nil && !fi.Mode().IsRegular():
		return fmt.Errorf("%s %s: %s is %s, not a regular file; refusing to replace it", flag, path, path, fileKind(fi.Mode()))
	case err == nil:
		return nil
	case !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, syscall.ENOTDIR):
		return fmt.Errorf("%s %s: %w", flag, path, err)
	}
	// Nothing there: the directory is checked.
	dir := filepath.Dir(path)
	di, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("%s %s: directory %s does not exist", flag, path, dir)
	case err != nil:
		return fmt.Errorf("%s %s: %w", flag, path, err)
	case !di.IsDir():
		return fmt.Errorf("%s %s: %s is %s, not a directory", flag, path, dir, fileKind(di.Mode()))
	}
	return nil
}

// checkOutputDir makes dir (given to flag), and checks that a file can be
// created in it, before a run: a -save that cannot work must not be found
// only at its end.
func checkOutputDir(flag, dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("%s %s: %w", flag, dir, err)
	}
	f, err := os.CreateTemp(dir, ".routefuzz-probe-*")
	if err != nil {
		return fmt.Errorf("%s %s: cannot write there: %w", flag, dir, err)
	}
	f.Close()
	os.Remove(f.Name())
	return nil
}

// fileKind names what a file mode says a file is.
func fileKind(m fs.FileMode) string {
	switch {
	case m&fs.ModeSymlink != 0:
		return "a symbolic link"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a block device"
	case m&fs.ModeNamedPipe != 0:
		return "a FIFO"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m.IsDir():
		return "a directory"
	case m.IsRegular():
		return "a regular file"
	}
	return "not a regular file (" + m.Type().String() + ")"
}
