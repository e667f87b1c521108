package interrupt

import (
	"bufio"
	"errors"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// childEnv makes the test binary, re-executed, a process that registers
// cleanups and waits for a signal; its value names the scenario.
const childEnv = "ROUTEFUZZ_INTERRUPT_CHILD"

func TestMain(m *testing.M) {
	switch os.Getenv(childEnv) {
	case "":
		os.Exit(m.Run())
	case "order":
		say := func(s string) func() { return func() { os.Stdout.WriteString(s + "\n") } }
		Register(say("first"))
		remove := Register(say("removed"))
		Register(func() { panic("a broken cleanup") })
		Register(say("last"))
		remove()
		os.Stdout.WriteString("ready\n")
	case "stuck":
		Register(func() { os.Stdout.WriteString("never\n") })
		Register(func() {
			os.Stdout.WriteString("stuck\n")
			select {}
		})
		os.Stdout.WriteString("ready\n")
	}
	time.Sleep(time.Minute)
	os.Exit(4) // no signal came
}

// child starts the test binary as a child in scenario, through sh when
// script is not "", and returns it once it is ready with its stdout.
func child(t *testing.T, scenario, script string) (*exec.Cmd, *bufio.Reader) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	if script != "" {
		if _, err := exec.LookPath("sh"); err != nil {
			t.Skip("needs sh")
		}
		cmd = exec.Command("sh", "-c", script+`; exec "$0" -test.run='^$'`, os.Args[0])
	}
	cmd.Env = append(os.Environ(), childEnv+"="+scenario)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	r := bufio.NewReader(out)
	if line, err := r.ReadString('\n'); line != "ready\n" {
		t.Fatalf("child said %q, %v; want ready", line, err)
	}
	return cmd, r
}

// rest reads the child's remaining output, waits for it and returns its
// exit status.
func rest(t *testing.T, cmd *exec.Cmd, r *bufio.Reader) (string, int) {
	t.Helper()
	var b strings.Builder
	r.WriteTo(&b)
	err := cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		t.Fatalf("child ended with %v, want an exit status", err)
	}
	if ws := ee.Sys().(syscall.WaitStatus); ws.Signaled() {
		t.Fatalf("child was killed by %v; want it to exit", ws.Signal())
	}
	return b.String(), ee.ExitCode()
}

// On SIGINT and SIGTERM the cleanups still registered run newest first,
// a panicking one does not stop the others, and the process exits with
// 128+signal.
func TestSignalRunsCleanupsNewestFirst(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		cmd, r := child(t, "order", "")
		cmd.Process.Signal(sig)
		out, code := rest(t, cmd, r)
		if out != "last\nfirst\n" || code != 128+int(sig) {
			t.Errorf("%v: output %q, exit status %d; want %q, %d", sig, out, code, "last\nfirst\n", 128+int(sig))
		}
	}
}

// A SIGINT inherited as ignored (a background job's) still runs the
// cleanups and ends the process: they have removed what the run needs.
func TestIgnoredSIGINTStillStops(t *testing.T) {
	cmd, r := child(t, "order", `trap "" INT`)
	cmd.Process.Signal(syscall.SIGINT)
	out, code := rest(t, cmd, r)
	if out != "last\nfirst\n" || code != 130 {
		t.Errorf("output %q, exit status %d; want %q, 130", out, code, "last\nfirst\n")
	}
}

// A second signal while a cleanup is stuck exits at once with its status.
func TestSecondSignalExits(t *testing.T) {
	cmd, r := child(t, "stuck", "")
	cmd.Process.Signal(syscall.SIGINT)
	if line, err := r.ReadString('\n'); line != "stuck\n" {
		t.Fatalf("child said %q, %v; want stuck", line, err)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	out, code := rest(t, cmd, r)
	if out != "" || code != 128+int(syscall.SIGTERM) {
		t.Errorf("output %q, exit status %d; want nothing more, %d", out, code, 128+int(syscall.SIGTERM))
	}
}

// handle, called directly: the order, removal, and the exit status.
func TestHandle(t *testing.T) {
	var got []string
	add := func(s string) func() { return Register(func() { got = append(got, s) }) }
	defer add("a")()
	rb := add("b")
	defer add("c")()
	rb()
	rb() // removing twice is harmless
	status := -1
	exitFunc = func(code int) { status = code }
	defer func() { exitFunc = os.Exit }()
	handle(syscall.SIGTERM)
	if strings.Join(got, ",") != "c,a" || status != 143 {
		t.Errorf("ran %v, exited %d; want [c a], 143", got, status)
	}
	// Once the cleanups are running, what registers is cleaned up at
	// once (a program the main goroutine started after the signal).
	if !Handling() {
		t.Errorf("Handling() is false while the cleanups run")
	}
	add("late")()
	if strings.Join(got, ",") != "c,a,late" {
		t.Errorf("ran %v; want the late cleanup run at once", got)
	}
	outMu.Unlock() // handle holds it for the exit that did not come
	mu.Lock()
	handling = false
	mu.Unlock()
}

// A signal that arrives while a command prints its final output
// (Exclusive) is handled only once that output is whole: the cleanups'
// output never lands in the middle or after it.
func TestExclusiveHoldsTheCleanups(t *testing.T) {
	var omu sync.Mutex
	var order []string
	add := func(s string) {
		omu.Lock()
		defer omu.Unlock()
		order = append(order, s)
	}
	remove := Register(func() { add("cleanup") })
	defer remove()
	exited := make(chan int, 1)
	exitFunc = func(code int) { exited <- code }
	defer func() { exitFunc = os.Exit }()
	Exclusive(func() {
		go handle(syscall.SIGINT)
		// Time for a handler that did not wait to run its cleanup first.
		time.Sleep(20 * time.Millisecond)
		add("output")
	})
	if code := <-exited; code != 130 {
		t.Errorf("exit status %d, want 130", code)
	}
	omu.Lock()
	got := strings.Join(order, ",")
	omu.Unlock()
	if got != "output,cleanup" {
		t.Errorf("ran %s; want the output whole before the cleanup", got)
	}
	// Undo what the handler left for the process's exit.
	outMu.Unlock()
	mu.Lock()
	handling = false
	mu.Unlock()
}
