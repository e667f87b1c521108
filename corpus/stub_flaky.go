package corpus

// TEMPORARY: replaced by the corpus branch.

import (
	"os"
	"path/filepath"

	"github.com/routefuzz/routefuzz/check"
)

func FromFlaky(d *check.Divergence, comment string) *Case {
	c := FromDivergence(d, comment)
	c.Diverges = nil
	return c
}

func WriteFile(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
