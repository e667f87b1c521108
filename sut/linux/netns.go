package linux

import (
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Namespaces are named Prefix + "<pid>-<n>", where pid is the process that
// created them and n counts from 1 within that process, and are
// bind-mounted at NetnsDir/<name> so that `ip netns list` shows them and
// `ip netns exec` can enter them while a run is in progress.
const (
	Prefix   = "routefuzz-"
	NetnsDir = "/run/netns"
)

var nsSeq atomic.Uint64

// netns is a private network namespace that this process created.
type netns struct {
	name string   // e.g. routefuzz-1234-1
	path string   // its bind mount, "" if it has none
	fd   *os.File // keeps the namespace alive while the process runs
}

// newNetns creates a network namespace, names it and sets the sysctls
// that must be in place before any adapter exists.
//
// The namespace is created by unshare(CLONE_NEWNET) on a goroutine locked
// to its OS thread that never unlocks it: the thread has left the host's
// namespace, so when the goroutine returns the runtime destroys the thread
// rather than reusing it. Nothing else in the process ever changes
// namespace.
func newNetns() (*netns, error) {
	if err := os.MkdirAll(NetnsDir, 0o755); err != nil {
		return nil, err
	}
	ns := &netns{name: fmt.Sprintf("%s%d-%d", Prefix, os.Getpid(), nsSeq.Add(1))}
	ns.path = filepath.Join(NetnsDir, ns.name)
	// Register the name before it exists, so that a signal arriving while
	// it is being created still removes it.
	track(ns)
	err := onThread(func() error {
		if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
			if errors.Is(err, unix.EPERM) {
				return fmt.Errorf("unshare(CLONE_NEWNET): %w (the kernel stack needs root, or CAP_SYS_ADMIN and CAP_NET_ADMIN)", err)
			}
			return fmt.Errorf("unshare(CLONE_NEWNET): %w", err)
		}
		f, err := os.Open("/proc/thread-self/ns/net")
		if err != nil {
			return err
		}
		ns.fd = f
		if err := bindMount(ns.path); err != nil {
			return err
		}
		return writeSysctls(baseSysctls)
	})
	if err != nil {
		ns.close()
		return nil, fmt.Errorf("creating network namespace %s: %w", ns.name, err)
	}
	return ns, nil
}

// baseSysctls are set inside a new namespace before any adapter exists.
var baseSysctls = []sysctl{
	// No link-local addresses, hence no fe80:: routes, on new adapters.
	{"net/ipv6/conf/default/addr_gen_mode", "1"},
	// Forwarding off: no subnet-router anycast routes.
	{"net/ipv4/conf/all/forwarding", "0"},
	{"net/ipv6/conf/all/forwarding", "0"},
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

// bindMount pins the calling thread's network namespace at path.
func bindMount(path string) error {
	f, err := os.OpenFile(path, os.O_RDONLY|os.O_CREATE|os.O_EXCL, 0o444)
	if err != nil {
		return err
	}
	f.Close()
	if err := unix.Mount("/proc/thread-self/ns/net", path, "", unix.MS_BIND, ""); err != nil {
		os.Remove(path)
		return fmt.Errorf("bind-mounting the namespace at %s: %w", path, err)
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

// close removes the namespace's name and drops this process's handle.
// The kernel destroys the namespace, and the adapters in it, once nothing
// refers to it. It is safe to call twice.
func (ns *netns) close() error {
	err := ns.unname()
	untrack(ns)
	if ns.fd != nil {
		ns.fd.Close()
		ns.fd = nil
	}
	return err
}

// unname removes the bind mount and its file.
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

// Every namespace this process has named, so that a signal handler can
// remove the names.
var (
	namesMu    sync.Mutex
	live       = map[*netns]bool{}
	signalOnce sync.Once
)

func track(ns *netns) {
	signalOnce.Do(handleSignals)
	namesMu.Lock()
	live[ns] = true
	namesMu.Unlock()
}

func untrack(ns *netns) {
	namesMu.Lock()
	delete(live, ns)
	namesMu.Unlock()
}

// Cleanup removes the names of every namespace this process created. The
// namespaces themselves live on until the process exits or closes them,
// so stacks still in use keep working. Programs that handle SIGINT or
// SIGTERM themselves may call it; Open installs a handler that does.
func Cleanup() {
	namesMu.Lock()
	defer namesMu.Unlock()
	for ns := range live {
		if ns.path != "" {
			unmount(ns.path)
			ns.path = ""
		}
	}
}

// handleSignals makes SIGINT and SIGTERM remove this process's namespace
// names and then take their default action, killing the process; the
// kernel then destroys the namespaces with it.
func handleSignals() {
	c := make(chan os.Signal, 1)
	signal.Notify(c, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		sig := <-c
		Cleanup()
		// Exit as the signal would have, even when it was inherited as
		// ignored (a background job's SIGINT): with its namespaces gone,
		// the run cannot go on.
		signal.Reset(sig)
		syscall.Kill(os.Getpid(), sig.(syscall.Signal))
		time.Sleep(time.Second) // the signal normally ends the process here
		os.Exit(128 + int(sig.(syscall.Signal)))
	}()
}

// Reap removes the namespaces that routefuzz processes which no longer
// exist left behind (a run killed by SIGKILL, say). It touches only names
// of the form Prefix<pid>-<n> whose pid is not a live process. It returns
// the names it removed.
func Reap() ([]string, error) {
	ents, err := os.ReadDir(NetnsDir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var reaped []string
	var errs []error
	for _, e := range ents {
		pid, ok := ownerPid(e.Name())
		if !ok || pid == os.Getpid() || alive(pid) {
			continue
		}
		if err := unmount(filepath.Join(NetnsDir, e.Name())); err != nil {
			errs = append(errs, err)
			continue
		}
		reaped = append(reaped, e.Name())
	}
	return reaped, errors.Join(errs...)
}

// ownerPid parses the pid out of a namespace name of ours.
func ownerPid(name string) (int, bool) {
	rest, ok := strings.CutPrefix(name, Prefix)
	if !ok {
		return 0, false
	}
	p, n, ok := strings.Cut(rest, "-")
	if !ok {
		return 0, false
	}
	pid, err := strconv.Atoi(p)
	if err != nil || pid <= 0 {
		return 0, false
	}
	if _, err := strconv.ParseUint(n, 10, 64); err != nil {
		return 0, false
	}
	return pid, true
}

// alive reports whether a process with this pid exists.
func alive(pid int) bool {
	err := unix.Kill(pid, 0)
	return err == nil || errors.Is(err, unix.EPERM)
}
