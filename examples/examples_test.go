// Package examples_test runs the example external stacks through the exec
// stack and a rapid hunt, as `routefuzz check -sut exec` does: the Go
// adapter around the fixed stack must pass, and the Python one's seeded bug
// must be found and shrunk to its known minimal order.
package examples_test

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/routefuzz/routefuzz/check"
	"github.com/routefuzz/routefuzz/model"
	"github.com/routefuzz/routefuzz/props"
	"github.com/routefuzz/routefuzz/stacks"
	"github.com/routefuzz/routefuzz/sut"
	"github.com/routefuzz/routefuzz/sut/process"
)

// buildFixedStack builds examples/fixedstack, once per test binary, and
// returns the binary's path.
func buildFixedStack(t testing.TB) string {
	t.Helper()
	bin, err := fixedStackBin()
	if err != nil {
		t.Fatal(err)
	}
	return bin
}

var (
	binDir        string // removed by TestMain
	fixedStackBin = sync.OnceValues(func() (string, error) {
		bin := filepath.Join(binDir, "fixedstack")
		out, err := exec.Command("go", "build", "-o", bin, "./fixedstack").CombinedOutput()
		if err != nil {
			return "", fmt.Errorf("go build ./examples/fixedstack: %v\n%s", err, out)
		}
		return bin, nil
	})
)

// python returns the Python interpreter itself, not a version manager's
// shim in front of it (pyenv's is a shell script that takes seconds to
// start on a loaded machine).
func python(t *testing.T) string {
	t.Helper()
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 is not installed, so examples/buggy_stack.py cannot run")
	}
	if out, err := exec.Command(py, "-c", "import sys; print(sys.executable)").Output(); err == nil {
		if real := strings.TrimSpace(string(out)); real != "" {
			return real
		}
	}
	return py
}

func open(t *testing.T, cmdline string) sut.Stack {
	t.Helper()
	// A generous timeout: a test of a correct program must not fail
	// because the machine is loaded.
	s, err := stacks.Open("exec", stacks.Options{Exec: cmdline, Timeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// config takes the promotion setting from what the program declared.
func config(s sut.Stack) props.Config {
	c := props.Config{Name: "exec", Attrs: true}
	if p := sut.LimitsOf(s).Promote; len(p) == 1 {
		c.Promote = p[0]
	}
	if k := sut.LimitsOf(s).KeepAddrOnDown; len(k) == 1 {
		c.KeepAddrOnDown = k[0]
	}
	return c
}

func TestFixedStackPasses(t *testing.T) {
	bin := buildFixedStack(t)
	for _, promote := range []string{"0", "1"} {
		t.Run("promote="+promote, func(t *testing.T) {
			// keep_addr_on_down as promote, so that both settings run.
			s := open(t, process.Quote(bin)+" -promote="+promote+" -keep_addr_on_down="+promote)
			l := sut.LimitsOf(s)
			// It declares everything: every op kind a stack need not
			// declare (not hold) and every attribute capability of
			// the alphabet.
			var every []model.OpKind
			for _, sp := range model.Alphabet {
				if !sp.Declared {
					every = append(every, sp.Kind)
				}
			}
			want := sut.Limits{Kinds: model.AllKinds, Promote: []bool{promote == "1"}, KeepAddrOnDown: []bool{promote == "1"}, IPv4: true, IPv6: true, Attrs: model.Capabilities(), Ops: every}
			if !slices.Equal(l.Kinds, want.Kinds) || !slices.Equal(l.Promote, want.Promote) || !slices.Equal(l.KeepAddrOnDown, want.KeepAddrOnDown) || l.IPv4 != want.IPv4 || l.IPv6 != want.IPv6 ||
				!slices.Equal(l.Attrs, want.Attrs) || !slices.Equal(l.Ops, want.Ops) {
				t.Fatalf("limits %+v, want %+v", l, want)
			}
			res, err := props.Hunt(s, config(s), props.Budget{Seed: 1, Checks: 200})
			if err != nil {
				t.Fatal(err)
			}
			t.Log(res.Summary("exec"))
			t.Logf("%.0f steps/s through the protocol", float64(res.Steps)/res.Elapsed.Seconds())
			if res.Minimal != nil {
				t.Fatal("\n" + res.Minimal.Report())
			}
			if res.Checks != 200 {
				t.Errorf("ran %d checks, want 200", res.Checks)
			}
		})
	}
}

// TestLegacyLookupsAlone runs KB287032's stack as a program with no route
// table (routes=0): checked on lookups alone, the hunt still finds the bug
// and shrinks it to its three ops, and the report shows lookups only.
func TestLegacyLookupsAlone(t *testing.T) {
	s := open(t, process.Quote(buildFixedStack(t))+" -legacy -routes=0 -promote=0")
	if l := sut.LimitsOf(s); l.Shows("routes") || !l.Shows("lookups") {
		t.Fatalf("limits %+v: want lookups without routes", l)
	}
	c := config(s)
	c.Adapters = 2
	res, err := props.Hunt(s, c, props.Budget{Seed: 4, Checks: 100})
	if err != nil {
		t.Fatal(err)
	}
	if res.Minimal == nil {
		t.Fatalf("KB287032 not found by lookups alone: %s", res.Summary("exec"))
	}
	rep := res.Minimal.Report()
	if len(res.Minimal.Ops) != 3 || !strings.Contains(rep, "diverges from the model in lookups after op 3") || strings.Contains(rep, "routes (") {
		t.Errorf("want KB287032's three ops, a lookup failure and no route table:\n%s", rep)
	}
}

// TestFixedStackSomeKinds checks that declaring kinds= limits the
// comparison: the adapter reports no broadcast routes, says so, and passes.
func TestFixedStackSomeKinds(t *testing.T) {
	s := open(t, process.Quote(buildFixedStack(t))+" -kinds=local,connected")
	if k := sut.LimitsOf(s).Kinds; !slices.Equal(k, []model.RouteKind{model.Connected, model.Local}) {
		t.Fatalf("kinds %v, want connected, local", k)
	}
	res, err := props.Hunt(s, config(s), props.Budget{Seed: 2, Checks: 100})
	if err != nil {
		t.Fatal(err)
	}
	t.Log(res.Summary("exec"))
	if res.Minimal != nil {
		t.Fatal("\n" + res.Minimal.Report())
	}
}

// wantMinimal is the order a hunt shrinks buggy_stack.py's bug to from
// seed 1, rapid then delta debugging. Three ops is the shortest that can
// show it: two addresses sharing a prefix route (same adapter, prefix and
// metric), then deleting the first, which takes the route with it. Both
// shrinkers are deterministic.
var wantMinimal = []string{
	"add a0 2001:db8::1/64",
	"add a0 2001:db8::2/64",
	"del a0 2001:db8::1/64",
}

// buggyOps and buggyAttrs are what buggy_stack.py declares: a subset of
// the op alphabet and of its attributes.
var (
	buggyOps   = []model.OpKind{model.Add, model.Del}
	buggyAttrs = []string{"metrics"}
)

// startTraced starts cmdline as stacks.Open does, with a trace of every
// line exchanged.
func startTraced(t *testing.T, cmdline string) (*process.Stack, *syncBuf) {
	t.Helper()
	trace := &syncBuf{}
	s, err := process.Start(cmdline, process.Options{Timeout: time.Minute, Trace: trace})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, trace
}

// checkSent fails unless every op in trace is of a kind in ops and sets
// only attributes whose capability is in attrs.
func checkSent(t *testing.T, trace string, ops []model.OpKind, attrs []string) {
	t.Helper()
	n := 0
	for _, l := range strings.Split(trace, "\n") {
		req, ok := strings.CutPrefix(l, "> ")
		if !ok {
			continue
		}
		op, err := model.ParseOp(req)
		if err != nil {
			continue // hello, reset, routes, addrs, quit
		}
		n++
		if !slices.Contains(ops, op.Kind) {
			t.Errorf("sent %q, an op it did not declare", req)
		}
		for _, a := range model.Attrs() {
			if a.Get(op) != 0 && !slices.Contains(attrs, a.Capability) {
				t.Errorf("sent %q, with %s, which it did not declare", req, a.Name)
			}
		}
	}
	if n == 0 {
		t.Error("sent no op")
	}
}

func TestBuggyPythonStackIsFound(t *testing.T) {
	s, trace := startTraced(t, process.Quote(python(t))+" buggy_stack.py")
	l := sut.LimitsOf(s)
	if l.IPv4 || !l.IPv6 || !slices.Equal(l.Attrs, buggyAttrs) || !slices.Equal(l.Ops, buggyOps) || l.Promote != nil || l.Kinds != nil {
		t.Fatalf("limits %+v, want IPv6 only, ops %v, attributes %q", l, buggyOps, buggyAttrs)
	}
	defer func() { checkSent(t, trace.String(), buggyOps, buggyAttrs) }()
	var first *check.Divergence
	c := config(s)
	c.OnDivergence = func(d *check.Divergence) {
		if first == nil {
			first = d
		}
	}
	res, err := props.Hunt(s, c, props.Budget{Seed: 1, Checks: 200})
	if err != nil {
		t.Fatal(err)
	}
	t.Log(res.Summary("exec"))
	if res.Minimal == nil {
		t.Fatal("the seeded bug was not found")
	}
	t.Logf("found after %d checks (%d ops), first failing sequence %d ops, shrunk in %d runs to:\n%s",
		res.Checks, res.Steps, len(first.Ops), res.Shrinks, res.Minimal.Report())
	var got []string
	for _, op := range res.Minimal.Ops {
		got = append(got, op.String())
	}
	if !slices.Equal(got, wantMinimal) {
		t.Errorf("minimal order:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(wantMinimal, "\n"))
	}
	if a := res.Minimal.Aspects(); a != check.RoutesAspect {
		t.Errorf("differs in %s, want routes only", a)
	}
	missing := model.MustParseRoute("2001:db8::/64 dev a0 metric 256")
	if want, got := check.Routes.Of(res.Minimal); !slices.Contains(want, missing) || slices.Contains(got, missing) {
		t.Errorf("want %q missing from the stack's routes", missing)
	}
}

// TestFixedPythonStackPasses shows that the seeded bug is the Python
// stack's only divergence: with --fixed it passes.
func TestFixedPythonStackPasses(t *testing.T) {
	s, trace := startTraced(t, process.Quote(python(t))+" buggy_stack.py --fixed")
	defer func() { checkSent(t, trace.String(), buggyOps, buggyAttrs) }()
	res, err := props.Hunt(s, config(s), props.Budget{Seed: 1, Checks: 200})
	if err != nil {
		t.Fatal(err)
	}
	t.Log(res.Summary("exec"))
	if res.Minimal != nil {
		t.Fatal("\n" + res.Minimal.Report())
	}
}

// crashy answers the handshake, reset, routes and addrs, then dies on the
// first add.
const crashy = `while read -r req; do
  case "$req" in
    hello*) echo "hello routefuzz 1 families=4 kinds=connected" ;;
    reset*) echo ok ;;
    routes|addrs) echo . ;;
    add*) echo "crashy: cannot handle '$req'" >&2; exit 139 ;;
    *) echo "err unsupported" ;;
  esac
done
`

// TestCrash runs a crashing program through a hunt. The crash, on an op
// after the handshake, is the program's bug (sut.ErrCrash): it must never
// be taken for a divergence in routes or addresses. The harness reports it
// either as a failure that wraps sut.ErrCrash and shows the program's
// stderr, or as a finding whose verdict is "crash".
func TestCrash(t *testing.T) {
	script := filepath.Join(t.TempDir(), "crashy.sh")
	if err := os.WriteFile(script, []byte(crashy), 0o644); err != nil {
		t.Fatal(err)
	}
	s := open(t, "sh "+process.Quote(script))
	res, err := props.Hunt(s, config(s), props.Budget{Seed: 1, Checks: 20})
	switch {
	case err != nil:
		if res.Minimal != nil {
			t.Fatalf("both a failure and a divergence:\n%v\n%s", err, res.Minimal.Report())
		}
		for _, want := range []string{"exited with status 139", `while routefuzz was asking "add `, "crashy: cannot handle 'add "} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error does not say %q:\n%v", want, err)
			}
		}
		t.Log(err)
	case res.Minimal != nil:
		d := res.Minimal
		t.Log("\n" + d.Report())
		if d.Failed != "crash" {
			t.Errorf("the crash was reported as a divergence (Failed=%q):\n%s", d.Failed, d.Report())
		}
		if len(d.Ops) != 1 || d.Ops[0].Kind != model.Add {
			t.Errorf("minimal order:\n%s\nwant one add", check.FormatOps(d.Ops))
		}
	default:
		t.Fatal("the crash went unnoticed")
	}
	// Replayed from a fresh start, the one add crashes again, and the
	// error says it is the program's crash.
	op := model.MustParseOp("add a0 10.0.0.1/24")
	d, err := check.Replay("exec", s, model.Config{Adapters: []string{"a0"}, Promote: true}, []model.Op{op}, nil)
	switch {
	case err != nil:
		if !errors.Is(err, sut.ErrCrash) {
			t.Errorf("the replayed crash does not wrap sut.ErrCrash: %v", err)
		}
	case d == nil || d.Failed != "crash":
		t.Errorf("the replayed crash was not reported as one: %v", d)
	}
}

func TestMain(m *testing.M) {
	// The tests run in examples/; the programs are named relative to it.
	if _, err := os.Stat("buggy_stack.py"); err != nil {
		panic("examples tests must run in examples/: " + err.Error())
	}
	// Shrinking the Python stack's bug takes a few seconds; make sure a
	// busy machine does not cut it short of the pinned minimal order.
	if err := flag.Set("rapid.shrinktime", "5m"); err != nil {
		panic(err)
	}
	dir, err := os.MkdirTemp("", "routefuzz-examples-")
	if err != nil {
		panic(err)
	}
	binDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

type syncBuf struct {
	mu sync.Mutex
	b  strings.Builder
}

func (b *syncBuf) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuf) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
