package linux

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

// ipNetnsAdd does to dir what iproute2's `ip netns add` does before it
// mounts a namespace there: make dir a shared mount point, bind-mounting
// it onto itself first if it is not one.
func ipNetnsAdd(t *testing.T, dir string) {
	t.Helper()
	err := unix.Mount("", dir, "none", unix.MS_SHARED|unix.MS_REC, "")
	if errors.Is(err, unix.EINVAL) {
		if err := unix.Mount(dir, dir, "none", unix.MS_BIND|unix.MS_REC, ""); err != nil {
			t.Fatal(err)
		}
		err = unix.Mount("", dir, "none", unix.MS_SHARED|unix.MS_REC, "")
	}
	if err != nil {
		t.Fatal(err)
	}
}

// A later `ip netns add` does not hide the namespace of a live run: the
// directory is already a shared mount point, so iproute2 leaves it be, and
// the name still names the namespace, which Close then removes.
func TestIPNetnsAddDoesNotHide(t *testing.T) {
	needRoot(t)
	dir := privateDir(t)
	old := netnsDir
	netnsDir = dir
	defer func() { netnsDir = old }()
	ns, err := newNetns()
	if err != nil {
		t.Fatal(err)
	}
	ipNetnsAdd(t, dir)
	f, err := os.Open(filepath.Join(dir, ns.name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if !isNsfs(f) {
		t.Fatalf("after ip netns add, %s is no longer the namespace", ns.name)
	}
	if err := ns.close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, ns.name)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("Close left %s: %v", ns.name, err)
	}
}

// A dead run's name that nothing can remove (its mount hidden under a
// later bind mount of the directory, as `ip netns add` made before
// routefuzz made the directory a mount point itself) is reported with
// ErrHidden and does not stop the reap of the others.
func TestReapSaysWhatIsHidden(t *testing.T) {
	needRoot(t)
	dir := privateDir(t)
	hidden := filepath.Join(dir, Prefix+"1-abcdefgh")
	dead := filepath.Join(dir, Prefix+"2-abcdefgh")
	other := filepath.Join(dir, "source")
	for _, p := range []string{hidden, dead, other} {
		if err := os.WriteFile(p, nil, 0o444); err != nil {
			t.Fatal(err)
		}
	}
	if err := unix.Mount(other, hidden, "", unix.MS_BIND, ""); err != nil {
		t.Fatal(err)
	}
	ipNetnsAdd(t, dir) // covers the mount at hidden
	reaped, err := reap(dir)
	if !errors.Is(err, ErrHidden) {
		t.Fatalf("reap: %v, want ErrHidden", err)
	}
	if len(reaped) != 1 || reaped[0] != filepath.Base(dead) {
		t.Fatalf("reaped %v, want only %s", reaped, filepath.Base(dead))
	}
	// Clean up what the test mounted: the cover, then the hidden mount.
	unix.Unmount(dir, unix.MNT_DETACH)
	unix.Unmount(hidden, unix.MNT_DETACH)
}
