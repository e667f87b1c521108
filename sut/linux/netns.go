package linux

import (
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/routefuzz/routefuzz/internal/interrupt"
)

// Namespaces are named Prefix + "<pid>-<tag>", where pid is the process
// that created them, for people to read, and tag is tagLen random
// lowercase letters, so that runs in different pid namespaces (containers
// sharing NetnsDir, each perhaps pid 1) do not pick the same name; should
// two ever draw the same, the second finds the name taken and draws
// again, for a name is created without replacing anything. They are
// bind-mounted at NetnsDir/<name> so that `ip netns list` shows them and
// `ip netns exec` can enter them while a run is in progress.
//
// Liveness is proven by a lock, not by a pid: the creating process holds
// an flock(2) LOCK_EX on the namespace itself (the nsfs file that the name
// is a bind mount of) and on the empty file under the mount, for as long
// as it lives. The kernel drops both locks when the process dies however
// it dies, whatever pid namespace it is in, and the descriptors are
// close-on-exec, so no program that the process starts can keep them.
// Reap removes a name only when it can take that lock itself.
const (
	Prefix   = "routefuzz-"
	NetnsDir = "/run/netns"
	tagLen   = 8
)

// netnsDir is where names are made and reaped: NetnsDir, except in tests.
var netnsDir = NetnsDir

// errLocked says that a lock is held: by a live run, for a name.
var errLocked = errors.New("locked by a live run")

// netns is a private network namespace that this process created.
type netns struct {
	name   string   // e.g. routefuzz-1234-kqzfbmwa
	path   string   // its bind mount, "" once it has none
	fd     *os.File // the namespace, locked; keeps it alive while the process runs
	mnt    *os.File // the file under the bind mount, locked
	remove func()   // drops the signal cleanup
}

// newNetns creates a network namespace, names it and sets the sysctls
// that must be in place before any adapter exists.
//
// The order makes every state visible to another process safe to judge
// by its lock alone: the mount point appears already locked (created with
// O_TMPFILE, locked, then linked under its name), and the namespace is
// locked before it is mounted there.
//
// The namespace is created by unshare(CLONE_NEWNET) on a goroutine locked
// to its OS thread that never unlocks it: the thread has left the host's
// namespace, so when the goroutine returns the runtime destroys the thread
// rather than reusing it. Nothing else in the process ever changes
// namespace.
func newNetns() (*netns, error) {
	dir := netnsDir
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, needsRoot(err)
	}
	if err := sharedMount(dir); err != nil {
		return nil, needsRoot(err)
	}
	ns := &netns{}
	// A signal that arrives from now on removes whatever name ns has by
	// then; the process's death releases the locks.
	ns.remove = interrupt.Register(func() { ns.unname() })
	name, mnt, err := createLocked(dir)
	if err != nil {
		ns.close()
		return nil, fmt.Errorf("creating a network namespace: %w", needsRoot(err))
	}
	path := filepath.Join(dir, name)
	namesMu.Lock() // the signal cleanup reads ns.path
	ns.name, ns.path, ns.mnt = name, path, mnt
	namesMu.Unlock()
	err = onThread(func() error {
		if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
			return needsRoot(fmt.Errorf("unshare(CLONE_NEWNET): %w", err))
		}
		f, err := os.Open("/proc/thread-self/ns/net") // O_CLOEXEC
		if err != nil {
			return err
		}
		ns.fd = f
		if err := flock(f, unix.LOCK_EX|unix.LOCK_NB); err != nil {
			return fmt.Errorf("locking the new namespace: %w", err)
		}
		if err := unix.Mount("/proc/thread-self/ns/net", path, "", unix.MS_BIND, ""); err != nil {
			return fmt.Errorf("bind-mounting the namespace at %s: %w", path, err)
		}
		return writeSysctls(baseSysctls)
	})
	if err != nil {
		ns.close()
		return nil, fmt.Errorf("creating network namespace %s: %w", name, err)
	}
	return ns, nil
}

// sharedMount makes dir a mount point of its own with shared propagation,
// as iproute2's `ip netns add` does before it mounts a namespace there. If
// dir were a plain directory when routefuzz mounted a namespace in it, a
// later `ip netns add` would bind-mount dir onto itself and so hide that
// namespace's mount under the new one: the name would then be an empty
// file that can be neither unmounted nor removed (EBUSY), and the
// namespace would leak. With dir already a mount point, `ip netns add`
// leaves it as it is.
func sharedMount(dir string) error {
	sharedMu.Lock()
	defer sharedMu.Unlock()
	if sharedDone[dir] {
		return nil
	}
	err := unix.Mount("", dir, "none", unix.MS_SHARED|unix.MS_REC, "")
	if errors.Is(err, unix.EINVAL) { // not a mount point yet
		if err = unix.Mount(dir, dir, "none", unix.MS_BIND|unix.MS_REC, ""); err == nil {
			err = unix.Mount("", dir, "none", unix.MS_SHARED|unix.MS_REC, "")
		}
	}
	if err != nil {
		return fmt.Errorf("making %s a shared mount point: %w", dir, err)
	}
	sharedDone[dir] = true
	return nil
}

var (
	sharedMu   sync.Mutex
	sharedDone = map[string]bool{}
)

// needsRoot says what the kernel stack needs when err is a refusal.
func needsRoot(err error) error {
	if errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES) {
		return fmt.Errorf("%w (the kernel stack needs root, or CAP_SYS_ADMIN and CAP_NET_ADMIN)", err)
	}
	return err
}

// createLocked creates an empty file under a new name in dir and returns
// the name with the file, on which it holds LOCK_EX. No other process
// ever sees the file unlocked: it is created unnamed (O_TMPFILE), locked,
// and then linked under its name, which fails rather than replace a file
// of the same name. Where O_TMPFILE is not supported it is created under
// its name and locked at once, and a reaper that took the lock in between
// (and so removed the file) is detected and the name given up.
func createLocked(dir string) (string, *os.File, error) {
	var err error
	for range 4 {
		name := Prefix + strconv.Itoa(os.Getpid()) + "-" + tag()
		path := filepath.Join(dir, name)
		var f *os.File
		f, err = linkLocked(dir, path)
		if errors.Is(err, unix.EOPNOTSUPP) || errors.Is(err, unix.EISDIR) {
			f, err = createThenLock(path)
		}
		if err == nil {
			return name, f, nil
		}
		if !errors.Is(err, os.ErrExist) && !errors.Is(err, errLocked) && !errors.Is(err, errReplaced) {
			return "", nil, err
		}
	}
	return "", nil, err
}

var (
	errReplaced = errors.New("removed while being locked")
	errNotOurs  = errors.New("neither a namespace nor a file: not ours")
)

// linkLocked creates path through O_TMPFILE, locked before it has a name.
func linkLocked(dir, path string) (*os.File, error) {
	fd, err := unix.Open(dir, unix.O_TMPFILE|unix.O_WRONLY|unix.O_CLOEXEC, 0o444)
	if err != nil {
		return nil, &os.PathError{Op: "open O_TMPFILE", Path: dir, Err: err}
	}
	f := os.NewFile(uintptr(fd), path)
	if err := flock(f, unix.LOCK_EX|unix.LOCK_NB); err != nil {
		f.Close()
		return nil, err
	}
	if err := unix.Linkat(unix.AT_FDCWD, "/proc/self/fd/"+strconv.Itoa(fd), unix.AT_FDCWD, path, unix.AT_SYMLINK_FOLLOW); err != nil {
		f.Close()
		return nil, &os.LinkError{Op: "link", Old: "O_TMPFILE", New: path, Err: err}
	}
	return f, nil
}

// createThenLock creates path and locks it, and checks that path is still
// the file it locked.
func createThenLock(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o444)
	if err != nil {
		return nil, err
	}
	if err := flock(f, unix.LOCK_EX|unix.LOCK_NB); err != nil {
		f.Close()
		return nil, err
	}
	if !samePath(f, path) {
		f.Close()
		return nil, fmt.Errorf("%s: %w", path, errReplaced)
	}
	return f, nil
}

// tag returns tagLen random lowercase letters. Letters only, so that a
// name never reads as the Prefix<pid>-<n> of older versions, whose reapers
// judge by pid.
func tag() string {
	const letters = "abcdefghijklmnopqrstuvwxyz"
	b := make([]byte, 0, tagLen)
	var buf [32]byte
	for len(b) < tagLen {
		rand.Read(buf[:])
		for _, c := range buf {
			if c < 26*9 && len(b) < tagLen { // unbiased
				b = append(b, letters[c%26])
			}
		}
	}
	return string(b)
}

// flock applies how to f, and says errLocked when another holds the lock.
func flock(f *os.File, how int) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var ferr error
	if err := rc.Control(func(fd uintptr) {
		for {
			ferr = unix.Flock(int(fd), how)
			if ferr != unix.EINTR {
				break
			}
		}
	}); err != nil {
		return err
	}
	if errors.Is(ferr, unix.EWOULDBLOCK) {
		return fmt.Errorf("%s: %w", f.Name(), errLocked)
	}
	if ferr != nil {
		return &os.PathError{Op: "flock", Path: f.Name(), Err: ferr}
	}
	return nil
}

// samePath reports whether path names the file f has open.
func samePath(f *os.File, path string) bool {
	fi, err := f.Stat()
	if err != nil {
		return false
	}
	pi, err := os.Stat(path)
	return err == nil && os.SameFile(fi, pi)
}

// baseSysctls are set inside a new namespace before any adapter exists.
var baseSysctls = []sysctl{
	// No link-local addresses, hence no fe80:: routes, on new adapters.
	{"net/ipv6/conf/default/addr_gen_mode", "1"},
	// Forwarding off: no subnet-router anycast routes.
	{"net/ipv4/conf/all/forwarding", "0"},
	{"net/ipv6/conf/all/forwarding", "0"},
	// No fib6 garbage collection during a run: kernel bug D3 (a prefix
	// route whose expiry `change` set in the past) would otherwise make
	// a route vanish at a time-dependent moment. Per namespace.
	{"net/ipv6/route/gc_interval", "86400"},
}

type sysctl struct{ key, val string }

// writeSysctls writes /proc/sys entries. It must run on a thread inside
// the namespace: /proc/sys/net shows the namespace of the thread that
// opens it.
func writeSysctls(ss []sysctl) error {
	for _, s := range ss {
		if err := os.WriteFile("/proc/sys/"+s.key, []byte(s.val+"\n"), 0); err != nil {
			return fmt.Errorf("sysctl %s=%s: %w", strings.ReplaceAll(s.key, "/", "."), s.val, err)
		}
	}
	return nil
}

// do runs f on a new OS thread inside the namespace. The thread is
// discarded afterwards.
func (ns *netns) do(f func() error) error {
	return onThread(func() error {
		if err := unix.Setns(int(ns.fd.Fd()), unix.CLONE_NEWNET); err != nil {
			return fmt.Errorf("setns %s: %w", ns.name, err)
		}
		return f()
	})
}

// onThread runs f on a goroutine locked to its own OS thread, which the
// runtime destroys when f returns because it is never unlocked.
func onThread(f func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		defer func() {
			if r := recover(); r != nil {
				errc <- fmt.Errorf("panic on namespace thread: %v", r)
			}
		}()
		errc <- f()
	}()
	return <-errc
}

// close removes the namespace's name, then drops this process's handles
// and with them its locks. The kernel destroys the namespace, and the
// adapters in it, once nothing refers to it. It is safe to call twice.
func (ns *netns) close() error {
	err := ns.unname()
	if ns.remove != nil {
		ns.remove()
		ns.remove = nil
	}
	for _, f := range []**os.File{&ns.fd, &ns.mnt} {
		if *f != nil {
			(*f).Close()
			*f = nil
		}
	}
	return err
}

// namesMu guards every netns's path: the signal cleanup reads it while
// the stack's goroutine may be closing it.
var namesMu sync.Mutex

// unname removes the bind mount and its file, while the locks are still
// held. It is also the signal cleanup.
func (ns *netns) unname() error {
	namesMu.Lock()
	defer namesMu.Unlock()
	if ns.path == "" {
		return nil
	}
	err := unmount(ns.path)
	ns.path = ""
	return err
}

// unmount removes the bind mount at path, if there is one, and the file.
func unmount(path string) error {
	err := unix.Unmount(path, unix.MNT_DETACH)
	if err != nil && !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("unmounting %s: %w", path, err)
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}

// Reap removes the namespaces that routefuzz runs which no longer exist
// left behind (a run killed by SIGKILL, a crash, a test timeout), in any
// pid namespace that shares NetnsDir. It touches only names of the form
// Prefix<pid>-<tag> whose lock it can take, which no live run's it can,
// and returns the names it removed.
//
// Names without such a lock (Prefix<pid>-<n> from versions of routefuzz
// before the lock) are left alone whatever their pid says: a pid proves
// nothing across pid namespaces. Remove them with `ip netns del`.
func Reap() ([]string, error) { return reap(netnsDir) }

func reap(dir string) ([]string, error) {
	ents, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var reaped, hidden []string
	var errs []error
	for _, e := range ents {
		if _, ok := ownerPid(e.Name()); !ok {
			continue
		}
		err := reapOne(filepath.Join(dir, e.Name()))
		switch {
		case err == nil:
			reaped = append(reaped, e.Name())
		case errors.Is(err, errLocked), errors.Is(err, os.ErrNotExist), errors.Is(err, errReplaced):
			// Alive, or another reaper was first.
		case errors.Is(err, errNotOurs):
			// Named like ours, but neither a namespace nor a file.
		case errors.Is(err, unix.EBUSY):
			// A dead run's mount hidden under a later mount of dir
			// (see sharedMount): nothing here can remove it.
			hidden = append(hidden, e.Name())
		default:
			errs = append(errs, err)
		}
	}
	if len(hidden) > 0 {
		errs = append(errs, fmt.Errorf("%w: %s (the namespaces of dead runs, hidden under a later bind mount of %s by `ip netns add`; `umount -l %s` when no other namespace is named there shows them again)",
			ErrHidden, strings.Join(hidden, ", "), dir, dir))
	}
	return reaped, errors.Join(errs...)
}

// ErrHidden says that Reap found names of dead runs it cannot remove,
// because their mounts are hidden under a later mount of NetnsDir.
var ErrHidden = errors.New("cannot remove")

// reapOne removes the name at path if its owner is dead: it takes the
// lock the owner held for its lifetime (on the namespace, or on the empty
// file of a run that died before it mounted the namespace there), checks
// that path still names what it locked, and removes the name holding the
// lock. It returns errLocked when the owner is alive.
func reapOne(path string) error {
	f, err := os.OpenFile(path, os.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK, 0) // O_CLOEXEC
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	if !fi.Mode().IsRegular() && !isNsfs(f) {
		return fmt.Errorf("%s: %w", path, errNotOurs)
	}
	if err := flock(f, unix.LOCK_EX|unix.LOCK_NB); err != nil {
		return err
	}
	if !samePath(f, path) {
		return fmt.Errorf("%s: %w", path, errReplaced)
	}
	return unmount(path)
}

func isNsfs(f *os.File) bool {
	var st unix.Statfs_t
	return unix.Fstatfs(int(f.Fd()), &st) == nil && st.Type == unix.NSFS_MAGIC
}

// ownerPid parses the pid out of a namespace name of ours: Prefix, the
// pid, "-", and tagLen lowercase letters.
func ownerPid(name string) (int, bool) {
	rest, ok := strings.CutPrefix(name, Prefix)
	if !ok {
		return 0, false
	}
	p, t, ok := strings.Cut(rest, "-")
	if !ok || len(t) != tagLen || strings.TrimLeft(t, "abcdefghijklmnopqrstuvwxyz") != "" {
		return 0, false
	}
	pid, err := strconv.Atoi(p)
	if err != nil || pid <= 0 || p != strconv.Itoa(pid) {
		return 0, false
	}
	return pid, true
}
