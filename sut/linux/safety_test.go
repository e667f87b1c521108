package linux

import (
	"bufio"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/routefuzz/routefuzz/model"
)

// The test binary, re-executed with childEnv set, acts as a routefuzz run
// that opens a stack, prints its namespace's name and waits to be killed.
// With dirEnv it names its namespace in that directory instead of
// NetnsDir; with spawnEnv it first starts a long sleep, as a run starts
// an external program, and prints its pid after the name. With bareEnv it
// only creates and names its namespace (newNetns), without the netlink
// sockets: in a pid namespace that has no /proc of its own, the netlink
// library cannot find its thread's namespace (it opens
// /proc/self/task/<tid> with the tid of the inner pid namespace), while a
// container, with its own /proc, can. The names and the locks, which are
// what Reap judges, are the same either way.
const (
	childEnv = "ROUTEFUZZ_LINUX_CHILD"
	dirEnv   = "ROUTEFUZZ_LINUX_NETNS_DIR"
	spawnEnv = "ROUTEFUZZ_LINUX_SPAWN"
	bareEnv  = "ROUTEFUZZ_LINUX_BARE"
)

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) != "" {
		child()
		return
	}
	os.Exit(m.Run())
}

func child() {
	if d := os.Getenv(dirEnv); d != "" {
		netnsDir = d
	}
	if os.Getenv(bareEnv) != "" {
		ns, err := newNetns()
		if err != nil {
			os.Stderr.WriteString(err.Error() + "\n")
			os.Exit(3)
		}
		os.Stdout.WriteString(ns.name + "\n")
		time.Sleep(time.Minute)
		os.Exit(4)
	}
	s, err := Open()
	if err != nil {
		os.Stderr.WriteString(err.Error() + "\n")
		os.Exit(3)
	}
	if err := s.Reset(abc); err != nil {
		os.Stderr.WriteString(err.Error() + "\n")
		os.Exit(3)
	}
	s.Apply(model.MustParseOp("add a0 10.0.0.1/24"))
	line := s.Name()
	if os.Getenv(spawnEnv) != "" {
		sleep := exec.Command("sleep", "60")
		if err := sleep.Start(); err != nil {
			os.Stderr.WriteString(err.Error() + "\n")
			os.Exit(3)
		}
		line += " " + strconv.Itoa(sleep.Process.Pid)
	}
	os.Stdout.WriteString(line + "\n")
	time.Sleep(time.Minute)
	os.Exit(4)
}

// run is a child run: its process, its namespace's name and, with
// spawnEnv, the pid of the program it started.
type run struct {
	cmd   *exec.Cmd
	name  string
	spawn int
}

// startChild runs the child and returns it with its namespace's name.
func startChild(t *testing.T) *run {
	return startChildCmd(t, exec.Command(os.Args[0], "-test.run=^$"))
}

// startChildCmd runs cmd as a child with the extra environment env. Unless
// the child is in a pid namespace of its own, its namespace's name must
// carry its pid.
func startChildCmd(t *testing.T, cmd *exec.Cmd, env ...string) *run {
	t.Helper()
	cmd.Env = append(append(os.Environ(), childEnv+"=1"), env...)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	r := &run{cmd: cmd}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if r.spawn > 0 {
			syscall.Kill(r.spawn, syscall.SIGKILL)
		}
	})
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("child printed no namespace: %v", err)
	}
	f := strings.Fields(line)
	if len(f) == 0 {
		t.Fatalf("child printed %q", line)
	}
	r.name = f[0]
	if len(f) > 1 {
		r.spawn, _ = strconv.Atoi(f[1])
	}
	pid, ok := ownerPid(r.name)
	if !ok {
		t.Fatalf("child's namespace %q is not named as ours", r.name)
	}
	if a := cmd.SysProcAttr; (a == nil || a.Cloneflags&syscall.CLONE_NEWPID == 0) && pid != cmd.Process.Pid {
		t.Fatalf("child's namespace %q does not carry its pid %d", r.name, cmd.Process.Pid)
	}
	return r
}

// kill ends r with SIGKILL, which gives it no chance to clean up.
func (r *run) kill(t *testing.T) {
	t.Helper()
	if err := r.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	r.cmd.Wait()
}

// A run killed by SIGKILL cannot clean up; the next Open reaps what it
// left, and leaves a live run's namespace alone. Other processes (another
// package's tests, a replay) may open and reap at the same time, so this
// asserts only about the namespaces it created: the killed run's is gone
// after Open, whoever reaped it. TestReapDeterministic shows, where no
// other process looks, that it is Reap that removes it.
func TestReapAfterSIGKILL(t *testing.T) {
	needRoot(t)
	live := startChild(t)
	victim := startChild(t)
	victim.kill(t)
	s := open(t) // reaps
	if _, err := os.Stat(filepath.Join(NetnsDir, victim.name)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("%s survived the next Open: %v", victim.name, err)
	}
	if !isNamespace(t, filepath.Join(NetnsDir, live.name)) {
		t.Fatalf("Open reaped the namespace of a live run")
	}
	if err := s.Reset(abc); err != nil {
		t.Fatal(err)
	}
}

// isNamespace reports whether path is a network namespace's bind mount.
func isNamespace(t *testing.T, path string) bool {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	return isNsfs(f)
}

// privateDir returns a directory of its own for namespace names, where
// no other process reaps, so that the test can say exactly what Reap
// does. Whatever is still named there at the end is reaped.
func privateDir(t *testing.T) string {
	dir := t.TempDir()
	t.Cleanup(func() {
		ents, _ := os.ReadDir(dir)
		for _, e := range ents {
			unmount(filepath.Join(dir, e.Name()))
		}
		// newNetns made dir a mount point of its own (sharedMount).
		for unix.Unmount(dir, unix.MNT_DETACH) == nil {
		}
		sharedMu.Lock()
		delete(sharedDone, dir)
		sharedMu.Unlock()
	})
	return dir
}

// Reap judges by the lock, not by the pid. Two runs in pid namespaces of
// their own are both pid 1 there; their names differ, and Reap leaves the
// live one alone and removes the one killed by SIGKILL, though a process
// with pid 1 exists here. A run that started a program, killed while the
// program lives on, is reaped too: the lock is not inherited.
func TestReapDeterministic(t *testing.T) {
	needRoot(t)
	dir := privateDir(t)
	inDir := dirEnv + "=" + dir
	pidns := func() *exec.Cmd {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWPID}
		return cmd
	}
	live := startChildCmd(t, pidns(), inDir, bareEnv+"=1")
	victim := startChildCmd(t, pidns(), inDir, bareEnv+"=1")
	parent := startChildCmd(t, exec.Command(os.Args[0], "-test.run=^$"), inDir, spawnEnv+"=1")
	for _, r := range []*run{live, victim} {
		if pid, _ := ownerPid(r.name); pid != 1 {
			t.Fatalf("%s: a run in its own pid namespace should be pid 1 there", r.name)
		}
	}
	if live.name == victim.name {
		t.Fatalf("two runs in pid namespaces of their own share the name %s", live.name)
	}
	if syscall.Kill(parent.spawn, 0) != nil {
		t.Fatalf("the program the run started (pid %d) is not running", parent.spawn)
	}

	if reaped, err := reap(dir); err != nil || len(reaped) != 0 {
		t.Fatalf("with every run alive, reap removed %v, %v", reaped, err)
	}
	victim.kill(t)
	parent.kill(t)
	for _, r := range []*run{victim, parent} {
		if !isNamespace(t, filepath.Join(dir, r.name)) {
			t.Fatalf("the killed run left nothing to reap: the test proves nothing")
		}
	}
	reaped, err := reap(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{victim.name, parent.name}
	slices.Sort(want)
	if !slices.Equal(reaped, want) {
		t.Fatalf("reap removed %v, want %v", reaped, want)
	}
	if !isNamespace(t, filepath.Join(dir, live.name)) {
		t.Fatalf("reap removed the namespace of a live run")
	}
	live.kill(t)
	if reaped, err := reap(dir); err != nil || !slices.Equal(reaped, []string{live.name}) {
		t.Fatalf("reap removed %v, %v; want [%s]", reaped, err, live.name)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Fatalf("left in the directory: %v", ents)
	}
}

// Reap touches only names of ours whose lock it can take: an empty file
// of a run that died before it mounted its namespace goes; a file whose
// lock is held, a name from versions before the lock (which carries no
// lock to prove its owner dead), and anything not ours stay.
func TestReapOnlyWhatItCanProveDead(t *testing.T) {
	needRoot(t)
	dir := privateDir(t)
	touch := func(name string) *os.File {
		f, err := os.Create(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		return f
	}
	touch("routefuzz-77-deadbeef")
	if err := flock(touch("routefuzz-77-abcdefgh"), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		t.Fatal(err)
	}
	touch("routefuzz-99999999-1") // before the lock
	touch("routefuzz-77-abcdefg")
	touch("other")
	if err := os.Mkdir(filepath.Join(dir, "routefuzz-77-directry"), 0o755); err != nil {
		t.Fatal(err)
	}
	reaped, err := reap(dir)
	if err != nil || !slices.Equal(reaped, []string{"routefuzz-77-deadbeef"}) {
		t.Fatalf("reap removed %v, %v; want only routefuzz-77-deadbeef", reaped, err)
	}
	if err := reapOne(filepath.Join(dir, "routefuzz-77-directry")); !errors.Is(err, errNotOurs) {
		t.Errorf("reapOne(a directory) = %v, want errNotOurs", err)
	}
	if err := reapOne(filepath.Join(dir, "routefuzz-77-abcdefgh")); !errors.Is(err, errLocked) {
		t.Errorf("reapOne(a locked file) = %v, want errLocked", err)
	}
	var left []string
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		left = append(left, e.Name())
	}
	if want := []string{"other", "routefuzz-77-abcdefg", "routefuzz-77-abcdefgh", "routefuzz-77-directry", "routefuzz-99999999-1"}; !slices.Equal(left, want) {
		t.Errorf("left %v, want %v", left, want)
	}
}

// Runs being created while another reaps, over and over: the reaper never
// removes a name whose creator is alive, at any step of its creation.
func TestReapRacesCreation(t *testing.T) {
	needRoot(t)
	dir := privateDir(t)
	old := netnsDir
	netnsDir = dir
	defer func() { netnsDir = old }()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var reaped []string
	wg.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			r, err := reap(dir)
			if err != nil {
				t.Error(err)
				return
			}
			reaped = append(reaped, r...)
		}
	})
	for range 200 {
		ns, err := newNetns()
		if err != nil {
			close(stop)
			wg.Wait()
			t.Fatal(err)
		}
		ok := isNamespace(t, filepath.Join(dir, ns.name))
		ns.close()
		if !ok {
			t.Errorf("%s was reaped while its run lived", ns.name)
		}
	}
	close(stop)
	wg.Wait()
	if len(reaped) != 0 {
		t.Errorf("reap removed the names of live runs: %v", reaped)
	}
}

// SIGTERM and SIGINT remove the run's namespace, and the run exits with
// 128+signal (internal/interrupt).
func TestSignalsClean(t *testing.T) {
	needRoot(t)
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		r := startChild(t)
		if err := r.cmd.Process.Signal(sig); err != nil {
			t.Fatal(err)
		}
		err := r.cmd.Wait()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 128+int(sig) {
			t.Errorf("%v: child ended with %v, want exit status %d", sig, err, 128+int(sig))
		}
		if _, err := os.Stat(filepath.Join(NetnsDir, r.name)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%v: %s still named after the signal: %v", sig, r.name, err)
		}
	}
}

// A background job inherits SIGINT as ignored; the run must still clean
// up and stop rather than go on without its namespace.
func TestIgnoredSIGINTStillStops(t *testing.T) {
	needRoot(t)
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("needs sh to start a child with SIGINT ignored")
	}
	r := startChildCmd(t, exec.Command("sh", "-c", `trap "" INT; exec "$0" -test.run='^$'`, os.Args[0]))
	if err := r.cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	err := r.cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 128+int(syscall.SIGINT) {
		t.Errorf("child ended with %v, want exit status %d", err, 128+int(syscall.SIGINT))
	}
	if _, err := os.Stat(filepath.Join(NetnsDir, r.name)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("%s still named after SIGINT: %v", r.name, err)
	}
}

func TestOwnerPid(t *testing.T) {
	for name, want := range map[string]int{
		"routefuzz-123-abcdefgh": 123, "routefuzz-1-zzzzzzzz": 1,
		"routefuzz-123-1": 0, "routefuzz-123": 0, "routefuzz-x-abcdefgh": 0, "routefuzz-0-abcdefgh": 0,
		"other-123-abcdefgh": 0, "routefuzz-123-abcdefg": 0, "routefuzz-123-abcdefghi": 0,
		"routefuzz-123-ABCDEFGH": 0, "routefuzz--1-abcdefgh": 0, "routefuzz-+1-abcdefgh": 0,
		"routefuzz-0123-abcdefgh": 0,
	} {
		pid, ok := ownerPid(name)
		if ok != (want != 0) || pid != want && ok {
			t.Errorf("ownerPid(%q) = %d, %v; want %d", name, pid, ok, want)
		}
	}
}

// Names are unique within a process too.
func TestTag(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		s := tag()
		if _, ok := ownerPid(Prefix + "1-" + s); !ok || seen[s] {
			t.Fatalf("tag %q: bad or repeated", s)
		}
		seen[s] = true
	}
}
