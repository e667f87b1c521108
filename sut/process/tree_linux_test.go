//go:build linux

package process

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/routefuzz/routefuzz/model"
	"github.com/routefuzz/routefuzz/sut"
)

// withCgroups runs f with the program's cgroup (when this machine lets
// routefuzz create one) and with the /proc scan alone.
func withCgroups(t *testing.T, f func(t *testing.T)) {
	for _, on := range []bool{true, false} {
		name := "proc"
		if on {
			name = "cgroup"
			if _, ok := ownCgroup(); !ok {
				t.Log("no cgroup v2 with cgroup.kill here: the cgroup case runs with the /proc scan")
			}
		}
		t.Run(name, func(t *testing.T) {
			old := useCgroups.Load()
			useCgroups.Store(on)
			defer useCgroups.Store(old)
			f(t)
		})
	}
}

// readPids reads the "PROGRAM GRANDCHILD" pids the helper wrote.
func readPids(t *testing.T, file string) (prog, grand int) {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fmt.Sscan(string(b), &prog, &grand); err != nil {
		t.Fatalf("pids file %q: %v", b, err)
	}
	return prog, grand
}

// running reports whether pid is a live process (a zombie is not).
func running(pid int) bool {
	st, ok := readStat(pid)
	return ok && st.state != 'Z' && st.state != 'X'
}

// TestDescendantsClose runs a program whose grandchild leaves the process
// group with setsid (and, in one case, clears its environment): after
// Close, it is gone.
func TestDescendantsClose(t *testing.T) {
	withCgroups(t, func(t *testing.T) {
		for _, clear := range []bool{false, true} {
			pids := filepath.Join(t.TempDir(), "pids")
			args := []string{"-on", "add", "-do", "setsid", "-pids", pids}
			if clear {
				args = append(args, "-clearenv")
			}
			s := start(t, Options{}, args...)
			if err := s.Reset(cfg); err != nil {
				t.Fatal(err)
			}
			if err := s.Apply(model.MustParseOp("add a0 10.0.0.1/24")); err != nil {
				t.Fatal(err)
			}
			prog, grand := readPids(t, pids)
			if !running(grand) {
				t.Fatalf("the grandchild %d is not running before Close", grand)
			}
			if cg, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", prog)); strings.Contains(string(cg), cgroupPrefix) != (s.p.tree.cg != "") {
				t.Errorf("the program's cgroups are %q; the stack thinks it has %q", cg, s.p.tree.cg)
			} else {
				t.Logf("the program's cgroup: %q", s.p.tree.cg)
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			if running(grand) {
				t.Errorf("clearenv=%v: the grandchild %d, in a session of its own, outlived Close", clear, grand)
				syscall.Kill(grand, syscall.SIGKILL)
			}
		}
	})
}

// TestDescendantsCrash runs a program that starts a grandchild in a
// session of its own and exits: the crash is reported, and the grandchild
// is gone once it is.
func TestDescendantsCrash(t *testing.T) {
	withCgroups(t, func(t *testing.T) {
		pids := filepath.Join(t.TempDir(), "pids")
		s := start(t, Options{}, "-on", "add", "-do", "setsidcrash", "-pids", pids)
		if err := s.Reset(cfg); err != nil {
			t.Fatal(err)
		}
		err := s.Apply(model.MustParseOp("add a0 10.0.0.1/24"))
		wantErr(t, err, ErrExited, "exited with status 3")
		if !errors.Is(err, sut.ErrCrash) {
			t.Errorf("not a crash finding: %v", err)
		}
		_, grand := readPids(t, pids)
		if running(grand) {
			t.Errorf("the grandchild %d outlived its parent's crash", grand)
			syscall.Kill(grand, syscall.SIGKILL)
		}
	})
}

// TestSignal runs a process that starts a program whose grandchild calls
// setsid, then gets SIGTERM: the cleanup the program registered with
// internal/interrupt kills both before the process exits.
func TestSignal(t *testing.T) {
	pids := filepath.Join(t.TempDir(), "pids")
	c := exec.Command(os.Args[0], signalArg, pids)
	var stderr strings.Builder
	c.Stderr = &stderr
	err := c.Run()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 128+int(syscall.SIGTERM) {
		t.Fatalf("the process ended with %v, want status %d; stderr:\n%s", err, 128+int(syscall.SIGTERM), stderr.String())
	}
	prog, grand := readPids(t, pids)
	for _, pid := range []int{prog, grand} {
		if running(pid) {
			t.Errorf("process %d outlived SIGTERM", pid)
			syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}

// TestHasVar checks the environment matching of the /proc scan.
func TestHasVar(t *testing.T) {
	v := []byte("ROUTEFUZZ_PROGRAM=1-2\x00")
	for env, want := range map[string]bool{
		"ROUTEFUZZ_PROGRAM=1-2\x00":               true,
		"A=b\x00ROUTEFUZZ_PROGRAM=1-2\x00C=d\x00": true,
		"ROUTEFUZZ_PROGRAM=1-2":                   true, // no final NUL
		"ROUTEFUZZ_PROGRAM=1-23\x00":              false,
		"XROUTEFUZZ_PROGRAM=1-2\x00":              false,
		"A=ROUTEFUZZ_PROGRAM=1-2\x00":             false,
		"":                                        false,
	} {
		if got := hasVar([]byte(env), v); got != want {
			t.Errorf("hasVar(%q) = %v, want %v", env, got, want)
		}
	}
}

// TestCgroupRefused starts a program whose cgroup the kernel refuses (a
// bad descriptor stands in for a cgroup with controllers enabled): it is
// started again without one, and runs.
func TestCgroupRefused(t *testing.T) {
	if _, ok := ownCgroup(); !ok {
		t.Skip("no cgroup v2 here")
	}
	old := cgroupFD
	cgroupFD = func(int) int { return 1 << 20 }
	defer func() { cgroupFD = old }()
	s := start(t, Options{})
	if s.p.tree.cg != "" {
		t.Errorf("the program runs in the cgroup %q the kernel refused", s.p.tree.cg)
	}
	if err := s.Reset(cfg); err != nil {
		t.Fatal(err)
	}
	if err := s.Apply(model.MustParseOp("add a0 10.0.0.1/24")); err != nil {
		t.Fatal(err)
	}
}

// A dead run's cgroup (its lock free) is emptied and removed, whatever
// still runs in it; a live run's (its lock held) is left alone. The lock,
// not a pid, says which: runs in other pid namespaces share the cgroups.
func TestReapCgroupsByLock(t *testing.T) {
	parent, ok := ownCgroup()
	if !ok {
		t.Skip("no cgroup v2 here")
	}
	mk := func(name string) string {
		dir := filepath.Join(parent, cgroupPrefix+name)
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Skipf("cannot make a cgroup here: %v", err)
		}
		t.Cleanup(func() {
			os.WriteFile(filepath.Join(dir, "cgroup.kill"), []byte("1"), 0)
			for range 100 {
				if err := os.Remove(dir); err == nil || errors.Is(err, os.ErrNotExist) {
					return
				}
				time.Sleep(10 * time.Millisecond)
			}
		})
		return dir
	}
	dead, live := mk("1-99999"), mk("1-99998")
	lock, err := syscall.Open(live, syscall.O_RDONLY|syscall.O_DIRECTORY|syscall.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(lock)
	if err := syscall.Flock(lock, syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		t.Fatal(err)
	}
	// A process left running in the dead run's cgroup.
	sleeper := exec.Command("sleep", "60")
	if err := sleeper.Start(); err != nil {
		t.Fatal(err)
	}
	defer sleeper.Process.Kill()
	if err := os.WriteFile(filepath.Join(dead, "cgroup.procs"), []byte(strconv.Itoa(sleeper.Process.Pid)), 0); err != nil {
		t.Skipf("cannot move a process into a cgroup here: %v", err)
	}
	// Reaped at once once killed, as an orphan would be by init.
	exited := make(chan error, 1)
	go func() { exited <- sleeper.Wait() }()
	reapCgroup(dead)
	reapCgroup(live)
	if _, err := os.Stat(dead); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the dead run's cgroup is still there: %v", err)
	}
	if err := <-exited; err == nil {
		t.Errorf("the process in the dead run's cgroup was not killed")
	}
	if _, err := os.Stat(live); err != nil {
		t.Errorf("the live run's cgroup was removed: %v", err)
	}
	// A program this run started holds its cgroup's lock.
	s := start(t, Options{})
	if cg := s.p.tree.cg; cg != "" {
		reapCgroup(cg)
		if _, err := os.Stat(cg); err != nil {
			t.Errorf("a running program's cgroup was reaped: %v", err)
		}
	}
}
