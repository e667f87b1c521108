package linux

import (
	"bufio"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/routefuzz/routefuzz/model"
)

// childEnv makes the test binary, re-executed, act as a routefuzz run that
// opens a stack, prints its namespace's name and waits to be killed.
const childEnv = "ROUTEFUZZ_LINUX_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) != "" {
		child()
		return
	}
	os.Exit(m.Run())
}

func child() {
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
	os.Stdout.WriteString(s.Name() + "\n")
	time.Sleep(time.Minute)
	os.Exit(4)
}

// startChild runs the child and returns it with its namespace's name.
func startChild(t *testing.T) (*exec.Cmd, string) {
	return startChildCmd(t, exec.Command(os.Args[0], "-test.run=^$"))
}

func startChildCmd(t *testing.T, cmd *exec.Cmd) (*exec.Cmd, string) {
	t.Helper()
	cmd.Env = append(os.Environ(), childEnv+"=1")
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("child printed no namespace: %v", err)
	}
	name := strings.TrimSpace(line)
	if pid, ok := ownerPid(name); !ok || pid != cmd.Process.Pid {
		t.Fatalf("child's namespace %q does not carry its pid %d", name, cmd.Process.Pid)
	}
	return cmd, name
}

// A run killed by SIGKILL cannot clean up; the next Open reaps what it
// left, and leaves a live run's namespace alone.
func TestReapAfterSIGKILL(t *testing.T) {
	needRoot(t)
	live, liveName := startChild(t)
	victim, name := startChild(t)
	path := filepath.Join(NetnsDir, name)
	if err := victim.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	victim.Wait()
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("the killed run left nothing to reap (%v): the test proves nothing", err)
	}
	s := open(t) // reaps
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("%s survived the next Open: %v", path, err)
	}
	if _, err := os.Stat(filepath.Join(NetnsDir, liveName)); err != nil {
		t.Fatalf("Open reaped the namespace of a live run: %v", err)
	}
	if err := s.Reset(abc); err != nil {
		t.Fatal(err)
	}
	live.Process.Kill()
}

// SIGTERM and SIGINT remove the run's namespace, then kill it as before.
func TestSignalsClean(t *testing.T) {
	needRoot(t)
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		cmd, name := startChild(t)
		if err := cmd.Process.Signal(sig); err != nil {
			t.Fatal(err)
		}
		err := cmd.Wait()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != sig {
			t.Errorf("%v: child ended with %v, want death by the signal", sig, err)
		}
		if _, err := os.Stat(filepath.Join(NetnsDir, name)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%v: %s still named after the signal: %v", sig, name, err)
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
	cmd, name := startChildCmd(t, exec.Command("sh", "-c", `trap "" INT; exec "$0" -test.run='^$'`, os.Args[0]))
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 128+int(syscall.SIGINT) {
		t.Errorf("child ended with %v, want exit status %d", err, 128+int(syscall.SIGINT))
	}
	if _, err := os.Stat(filepath.Join(NetnsDir, name)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("%s still named after SIGINT: %v", name, err)
	}
}

func TestOwnerPid(t *testing.T) {
	for name, want := range map[string]int{
		"routefuzz-123-1": 123, "routefuzz-123": 0, "routefuzz-x-1": 0, "routefuzz-0-1": 0,
		"other-123-1": 0, "routefuzz-123-1x": 0, "routefuzz--1-1": 0,
	} {
		pid, ok := ownerPid(name)
		if ok != (want != 0) || pid != want && ok {
			t.Errorf("ownerPid(%q) = %d, %v; want %d", name, pid, ok, want)
		}
	}
}
