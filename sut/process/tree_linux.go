//go:build linux

package process

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Nothing a program starts may outlive it. Its process group catches what
// stays in the group; two more nets catch what leaves it (setsid, setpgid):
//
//   - a cgroup v2 of its own, when routefuzz may create one beside its own
//     cgroup (as root, or in a delegated subtree such as a systemd user
//     session): the program is started inside it (clone3 with
//     CLONE_INTO_CGROUP), so every descendant is inside too, and
//     cgroup.kill kills them all at once, those forking meanwhile
//     included. Only a process allowed to write cgroup.procs elsewhere
//     (root) can leave it.
//   - a tag, ROUTEFUZZ_PROGRAM=<pid>-<n> in the program's environment,
//     which its descendants inherit: at the end routefuzz scans /proc and
//     kills every process that carries the tag, or descends from one that
//     does, until none is left.
//
// Close also records the tree before it asks the program to quit, so that
// a descendant that clears its environment is killed even if the program
// exits first. Without a cgroup, only a descendant that clears its
// environment and whose tagged ancestors all exit on their own, before
// Close or on a crash, is out of reach.

// tagEnv is the environment variable that marks a program's descendants.
const tagEnv = "ROUTEFUZZ_PROGRAM"

// killWait bounds how long stopping a program waits for its killed
// descendants to be gone.
const killWait = 5 * time.Second

// cgroupFD returns the descriptor the program is started with; tests make
// it a bad one, to exercise a refused start in the cgroup.
var cgroupFD = func(fd int) int { return fd }

// useCgroups can be turned off by tests, to exercise the /proc scan alone.
var useCgroups atomic.Bool

func init() { useCgroups.Store(true) }

var treeSeq atomic.Int64

// tree is everything one program started.
type tree struct {
	tag     string
	cg      string // the program's cgroup directory; "" when it has none
	cgFD    int    // open on cg until the program has started
	cgLock  int    // open on cg and flocked while cg exists; -1 when none
	release sync.Once

	mu     sync.Mutex
	before []procID // the tree as remember found it
}

// remember records the processes of the tree now, so that kill and reap
// find them even if they leave it (a descendant without the tag whose
// parent exits) before then. Close calls it before it asks the program to
// quit.
func (t *tree) remember() {
	ps := t.scan()
	t.mu.Lock()
	defer t.mu.Unlock()
	t.before = ps
}

// members returns the processes of the tree now and those remembered
// that are still running.
func (t *tree) members() []procID {
	ps := t.scan()
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, p := range t.before {
		if p.alive() {
			ps = append(ps, p)
		}
	}
	return ps
}

// newTree prepares c to be started as the root of a tree: it tags c's
// environment and, if cgroup and cgroups can be used, makes c start in a
// cgroup of its own.
func newTree(c *exec.Cmd, cgroup bool) *tree {
	t := &tree{tag: fmt.Sprintf("%d-%d", os.Getpid(), treeSeq.Add(1)), cgFD: -1, cgLock: -1}
	c.Env = append(c.Environ(), tagEnv+"="+t.tag)
	if !cgroup || !useCgroups.Load() {
		return t
	}
	parent, ok := ownCgroup()
	if !ok {
		return t
	}
	reapCgroups(parent)
	dir := filepath.Join(parent, cgroupPrefix+t.tag)
	if err := os.Mkdir(dir, 0o755); err != nil {
		return t
	}
	if _, err := os.Stat(filepath.Join(dir, "cgroup.kill")); err != nil {
		os.Remove(dir) // before Linux 5.14: no way to kill a cgroup at once
		return t
	}
	fd, err := syscall.Open(dir, syscall.O_RDONLY|syscall.O_DIRECTORY|syscall.O_CLOEXEC, 0)
	if err != nil {
		os.Remove(dir)
		return t
	}
	// The run's lock on the cgroup, held for the program's life: a
	// reaper that can take it knows the run is dead (reapCgroups).
	lock, err := syscall.Open(dir, syscall.O_RDONLY|syscall.O_DIRECTORY|syscall.O_CLOEXEC, 0)
	if err != nil || syscall.Flock(lock, syscall.LOCK_EX|syscall.LOCK_NB) != nil {
		if err == nil {
			syscall.Close(lock)
		}
		syscall.Close(fd)
		os.Remove(dir)
		return t
	}
	t.cg, t.cgFD, t.cgLock = dir, fd, lock
	c.SysProcAttr.UseCgroupFD = true
	c.SysProcAttr.CgroupFD = cgroupFD(fd)
	return t
}

// started is called after the program's Start, whether it succeeded or
// not. It reports whether to try again, with a new exec.Cmd and without a
// cgroup: Start failed while the program had one, and the kernel may have
// refused to start a process in it (controllers enabled, no clone3). A
// program that is missing fails again, at the cost of one more fork.
func (t *tree) started(err error) (retry bool) {
	if t.cgFD >= 0 {
		syscall.Close(t.cgFD)
		t.cgFD = -1
	}
	if err == nil || t.cg == "" {
		return false
	}
	os.Remove(t.cg)
	t.cg = ""
	t.unlock()
	return true
}

// unlock drops the run's lock on the cgroup.
func (t *tree) unlock() {
	if t.cgLock >= 0 {
		syscall.Close(t.cgLock)
		t.cgLock = -1
	}
}

// kill kills every process of the tree. It is safe to call at any time,
// from any goroutine, more than once; it does not wait.
func (t *tree) kill() {
	if t.cg != "" {
		os.WriteFile(filepath.Join(t.cg, "cgroup.kill"), []byte("1"), 0)
	}
	for _, p := range t.members() {
		syscall.Kill(p.pid, syscall.SIGKILL)
	}
}

// reap kills every process of the tree, waits (up to killWait) until all
// are gone, and removes the cgroup. It is safe to call more than once.
func (t *tree) reap() {
	t.release.Do(func() {
		deadline := time.Now().Add(killWait)
		killed := map[procID]bool{}
		for backoff := time.Millisecond; ; backoff = min(2*backoff, 50*time.Millisecond) {
			if t.cg != "" {
				os.WriteFile(filepath.Join(t.cg, "cgroup.kill"), []byte("1"), 0)
			}
			for _, p := range t.members() {
				syscall.Kill(p.pid, syscall.SIGKILL)
				killed[p] = true
			}
			for p := range killed {
				if !p.alive() {
					delete(killed, p)
				}
			}
			if len(killed) == 0 && t.cgEmpty() || time.Now().After(deadline) {
				break
			}
			time.Sleep(backoff)
		}
		if t.cg != "" {
			os.Remove(t.cg)
		}
		t.unlock()
	})
}

// cgEmpty reports whether the tree's cgroup holds no live process.
func (t *tree) cgEmpty() bool {
	if t.cg == "" {
		return true
	}
	b, err := os.ReadFile(filepath.Join(t.cg, "cgroup.events"))
	return err != nil || bytes.Contains(b, []byte("populated 0"))
}

// procID names one process: its pid and start time, so that a reused pid
// is not taken for it.
type procID struct {
	pid   int
	start string
}

// alive reports whether p is still running (a zombie is not).
func (p procID) alive() bool {
	st, ok := readStat(p.pid)
	return ok && st.start == p.start && st.state != 'Z' && st.state != 'X'
}

type stat struct {
	ppid  int
	state byte
	start string
}

// readStat reads /proc/PID/stat.
func readStat(pid int) (stat, bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return stat{}, false
	}
	// pid (comm) state ppid pgrp ...; comm may hold anything, even ")".
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return stat{}, false
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 20 {
		return stat{}, false
	}
	ppid, _ := strconv.Atoi(f[1])
	return stat{ppid: ppid, state: f[0][0], start: f[19]}, true
}

// scan returns the live processes that carry t's tag or descend from one
// that does.
func (t *tree) scan() []procID {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	self := os.Getpid()
	want := []byte(tagEnv + "=" + t.tag + "\x00")
	stats := map[int]stat{}
	tagged := map[int]bool{}
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == self {
			continue
		}
		st, ok := readStat(pid)
		if !ok || st.state == 'Z' || st.state == 'X' {
			continue
		}
		stats[pid] = st
		if env, err := os.ReadFile("/proc/" + e.Name() + "/environ"); err == nil && hasVar(env, want) {
			tagged[pid] = true
		}
	}
	var out []procID
	for pid, st := range stats {
		// Walk up to a tagged ancestor; the depth bound guards against a
		// cycle made of pids reused while we read.
		for p, n := pid, 0; p > 1 && n < 1024; n++ {
			if tagged[p] {
				out = append(out, procID{pid, st.start})
				break
			}
			up, ok := stats[p]
			if !ok {
				break
			}
			p = up.ppid
		}
	}
	return out
}

// hasVar reports whether the NUL-separated environment env holds the
// variable v ("NAME=VALUE\x00").
func hasVar(env, v []byte) bool {
	env = append(append([]byte{0}, env...), 0) // each variable is between NULs
	return bytes.Contains(env, append([]byte{0}, v...))
}

// cgroupPrefix begins the name of every cgroup this package creates.
const cgroupPrefix = "routefuzz-program-"

// ownCgroup returns the directory of this process's cgroup v2, if it has
// one.
var ownCgroup = sync.OnceValues(func() (string, bool) {
	b, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return "", false
	}
	var path string
	found := false
	for _, l := range strings.Split(string(b), "\n") {
		if p, ok := strings.CutPrefix(l, "0::"); ok {
			path, found = p, true
		}
	}
	if !found || strings.HasSuffix(path, " (deleted)") {
		return "", false
	}
	mi, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return "", false
	}
	for _, l := range strings.Split(string(mi), "\n") {
		// id parent major:minor root mountpoint options... - fstype source super
		pre, post, ok := strings.Cut(l, " - ")
		if !ok || !strings.HasPrefix(post, "cgroup2 ") {
			continue
		}
		f := strings.Fields(pre)
		if len(f) < 5 {
			continue
		}
		root, mnt := unescapeMount(f[3]), unescapeMount(f[4])
		rel, err := filepath.Rel(root, path)
		if err != nil || strings.HasPrefix(rel, "..") {
			continue
		}
		return filepath.Join(mnt, rel), true
	}
	return "", false
})

// unescapeMount undoes mountinfo's octal escapes (\040 for a space).
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// reapCgroups kills and removes the cgroups in parent that runs of
// routefuzz which no longer exist left behind (after SIGKILL, or a crash):
// a run holds an flock on each of its programs' cgroup directories for
// the program's life (newTree), so a cgroup whose lock can be taken is a
// dead run's, in whatever pid namespace that run was. Whatever still runs
// in it is killed (cgroup.kill) before it is removed.
func reapCgroups(parent string) {
	reaped.Do(func() {
		ents, _ := os.ReadDir(parent)
		for _, e := range ents {
			if strings.HasPrefix(e.Name(), cgroupPrefix) {
				reapCgroup(filepath.Join(parent, e.Name()))
			}
		}
	})
}

func reapCgroup(dir string) {
	fd, err := syscall.Open(dir, syscall.O_RDONLY|syscall.O_DIRECTORY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return
	}
	defer syscall.Close(fd)
	if syscall.Flock(fd, syscall.LOCK_EX|syscall.LOCK_NB) != nil {
		return // its run is alive
	}
	os.WriteFile(filepath.Join(dir, "cgroup.kill"), []byte("1"), 0)
	for deadline := time.Now().Add(time.Second); ; time.Sleep(5 * time.Millisecond) {
		if err := os.Remove(dir); err == nil || errors.Is(err, os.ErrNotExist) || time.Now().After(deadline) {
			return
		}
	}
}

var reaped sync.Once
