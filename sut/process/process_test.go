package process

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/routefuzz/routefuzz/check"
	"github.com/routefuzz/routefuzz/model"
	"github.com/routefuzz/routefuzz/props"
	"github.com/routefuzz/routefuzz/sut"
)

var cfg = model.Config{Adapters: []string{"a0", "a1"}, Promote: true}

// start starts the helper with args. A zero timeout becomes a minute:
// only a program that provably never answers may wait one out, so that no
// test depends on how fast a loaded machine runs the helper.
func start(t *testing.T, o Options, args ...string) *Stack {
	t.Helper()
	if o.Timeout == 0 {
		o.Timeout = time.Minute
	}
	s, err := Start(helperCmd(args...), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// wantErr checks that err is an *Error of kind, that check would not take
// it for a result, and that its message holds each of texts.
func wantErr(t *testing.T, err error, kind error, texts ...string) *Error {
	t.Helper()
	t.Log(err)
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("got %v (%T), want a *process.Error", err, err)
	}
	if !errors.Is(err, kind) {
		t.Errorf("got kind %v, want %v; error:\n%v", e.Kind, kind, err)
	}
	if r, ok := model.ResultOf(err); ok {
		t.Errorf("model.ResultOf says %v: a harness failure would be taken for a result", r)
	}
	for _, s := range texts {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error does not say %q:\n%v", s, err)
		}
	}
	return e
}

func TestConversation(t *testing.T) {
	s := start(t, Options{})
	if err := s.Reset(cfg); err != nil {
		t.Fatal(err)
	}
	for _, l := range []string{"add a0 10.0.0.1/24", "add a0 10.0.0.2/24", "add a1 2001:db8::1/64 metric 100"} {
		if err := s.Apply(model.MustParseOp(l)); err != nil {
			t.Fatal(err)
		}
	}
	results := []struct {
		op   string
		want error
	}{
		{"add a0 10.0.0.1/24", model.ErrExists},
		{"del a0 10.0.0.9/24", model.ErrNotFound},
		{"add x9 10.0.0.1/24", model.ErrInvalid},
	}
	for _, r := range results {
		err := s.Apply(model.MustParseOp(r.op))
		var oe *model.OpError
		if !errors.Is(err, r.want) || !errors.As(err, &oe) || oe.Msg == "" || oe.Op.String() != r.op {
			t.Errorf("%s: got %#v, want an *model.OpError wrapping %v with the program's text", r.op, err, r.want)
		}
	}
	m, _ := model.New(cfg)
	for _, l := range []string{"add a0 10.0.0.1/24", "add a0 10.0.0.2/24", "add a1 2001:db8::1/64 metric 100"} {
		m.Apply(model.MustParseOp(l))
	}
	rs, err := s.Routes()
	if err != nil {
		t.Fatal(err)
	}
	if !rs.Equal(m.Routes()) {
		t.Errorf("routes:\n%s\nwant:\n%s", rs, m.Routes())
	}
	as, err := s.Addrs()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(as, m.Addrs()) {
		t.Errorf("addrs %v, want %v", as, m.Addrs())
	}
	if err := s.Reset(cfg); err != nil {
		t.Fatal(err)
	}
	if rs, _ := s.Routes(); len(rs) != 0 {
		t.Errorf("routes after reset:\n%s", rs)
	}
}

func TestCapabilities(t *testing.T) {
	c, l := model.Connected, model.Local
	tests := []struct {
		hello string
		want  sut.Limits
	}{
		{"hello routefuzz 1", sut.Limits{Promote: []bool{true}, IPv4: true, IPv6: true, Observables: []string{"routes", "addresses"}}},
		{"hello routefuzz 1 promote=0 metrics=1", sut.Limits{Promote: []bool{false}, IPv4: true, IPv6: true, Attrs: []string{"metrics"}, Observables: []string{"routes", "addresses"}}},
		{"hello routefuzz 1 lifetimes=1 metrics=0 noprefixroute=1", sut.Limits{Promote: []bool{true}, IPv4: true, IPv6: true, Attrs: []string{"lifetimes", "noprefixroute"}, Observables: []string{"routes", "addresses"}}},
		{"hello routefuzz 1 kinds=local,connected families=4", sut.Limits{Kinds: []model.RouteKind{c, l}, Promote: []bool{true}, IPv4: true, Observables: []string{"routes", "addresses"}}},
		{"hello routefuzz 1 families=6 promote=1", sut.Limits{IPv6: true, Observables: []string{"routes", "addresses"}}}, // promotion is IPv4's
		{"hello routefuzz 1 lookups=1", sut.Limits{Promote: []bool{true}, IPv4: true, IPv6: true, Observables: []string{"addresses", "routes", "lookups"}}},
		{"hello routefuzz 1 lookups=1 routes=0", sut.Limits{Promote: []bool{true}, IPv4: true, IPv6: true, Observables: []string{"addresses", "lookups"}}},
	}
	for _, tt := range tests {
		s := start(t, Options{}, "-hello", tt.hello)
		got := s.Limits()
		if !slices.Equal(got.Kinds, tt.want.Kinds) || !slices.Equal(got.Promote, tt.want.Promote) ||
			got.IPv4 != tt.want.IPv4 || got.IPv6 != tt.want.IPv6 || !sameSet(got.Attrs, tt.want.Attrs) ||
			!slices.Equal(got.Observables, tt.want.Observables) {
			t.Errorf("%q: limits %+v, want %+v", tt.hello, got, tt.want)
		}
	}
}

func TestBadCapabilities(t *testing.T) {
	for _, hello := range []string{
		"hello routefuzz 1 kinds=multicast",
		"hello routefuzz 1 kinds=",
		"hello routefuzz 1 promote=2",
		"hello routefuzz 1 families=5",
		"hello routefuzz 1 families=",
		"hello routefuzz 1 metrics=yes",
		"hello routefuzz 1 colour=blue",
		"hello routefuzz 1 metrics",
		"hello routefuzz 1 noprefixroute",
		"hello routefuzz 1 noprefixroute=yes",
		"hello routefuzz 1 lifetimes=2",
		"hello routefuzz 1 lifetimes=1 lifetimes=1",
		"hello routefuzz 1 valid_lft=1",
		"hello routefuzz 1 metric=1",
		"hello routefuzz 1 promote=0 promote=1",
	} {
		_, err := Start(helperCmd("-hello", hello), Options{})
		wantErr(t, err, ErrCapability, `answered "`+hello+`"`, `"hello routefuzz 1"`)
	}
}

func TestPromoteMismatch(t *testing.T) {
	s := start(t, Options{}, "-hello", "hello routefuzz 1 promote=0")
	err := s.Reset(cfg) // cfg asks for promote on
	if !errors.Is(err, sut.ErrUnsupported) {
		t.Fatalf("got %v, want sut.ErrUnsupported", err)
	}
}

func TestMissingProgram(t *testing.T) {
	_, err := Start("/nonexistent/routefuzz-stack -x", Options{})
	wantErr(t, err, ErrStart, "/nonexistent/routefuzz-stack", "did not start", "no such file")
	_, err = Start("   ", Options{})
	wantErr(t, err, ErrStart, "empty")
	_, err = Start("'unterminated", Options{})
	wantErr(t, err, ErrStart, "unterminated")
}

func TestWrongVersion(t *testing.T) {
	_, err := Start(helperCmd("-hello", "hello routefuzz 2 families=4"), Options{})
	wantErr(t, err, ErrVersion, "version 2", "version 1", `"hello routefuzz 1"`)
}

func TestNotHello(t *testing.T) {
	for _, hello := range []string{"HTTP/1.1 400 Bad Request", "err unsupported-ish", "hello world", ""} {
		_, err := Start(helperCmd("-hello", hello), Options{})
		wantErr(t, err, ErrProtocol, `"hello routefuzz 1"`, "outside the protocol")
	}
	_, err := Start(helperCmd("-hello", "err unsupported"), Options{})
	wantErr(t, err, ErrUnsupported, `"hello routefuzz 1"`)
}

func TestExitBeforeHello(t *testing.T) {
	_, err := Start(helperCmd("-on", "hello", "-do", "crash"), Options{})
	wantErr(t, err, ErrExited, "exited with status 3", `"hello routefuzz 1"`, "panic: cannot handle")
}

func TestMalformedAnswer(t *testing.T) {
	s := start(t, Options{}, "-on", "add", "-do", "garbage")
	if err := s.Reset(cfg); err != nil {
		t.Fatal(err)
	}
	err := s.Apply(model.MustParseOp("add a0 10.0.0.1/24"))
	wantErr(t, err, ErrProtocol, `answered "add a0 10.0.0.1/24" with "bonjour"`, "outside the protocol")
	// The conversation is lost; the next check starts the program again.
	if err := s.Reset(cfg); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Routes(); err != nil {
		t.Fatal(err)
	}
}

func TestBadRouteLine(t *testing.T) {
	s := start(t, Options{}, "-on", "routes", "-do", "badroute")
	if err := s.Reset(cfg); err != nil {
		t.Fatal(err)
	}
	_, err := s.Routes()
	wantErr(t, err, ErrProtocol, `"routes"`, "route grammar", "host bits")
}

func TestUnsupportedRequest(t *testing.T) {
	s := start(t, Options{}, "-on", "routes", "-do", "unsupported")
	if err := s.Reset(cfg); err != nil {
		t.Fatal(err)
	}
	_, err := s.Routes()
	wantErr(t, err, ErrUnsupported, `does not support "routes"`, "err unsupported not today")
}

func TestUnaskedOutput(t *testing.T) {
	s := start(t, Options{}, "-on", "add", "-do", "extra")
	if err := s.Reset(cfg); err != nil {
		t.Fatal(err)
	}
	err := s.Apply(model.MustParseOp("add a0 10.0.0.1/24"))
	wantErr(t, err, ErrProtocol, `"debug: something"`)
}

func TestCrash(t *testing.T) {
	s := start(t, Options{}, "-on", "del", "-do", "crash")
	if err := s.Reset(cfg); err != nil {
		t.Fatal(err)
	}
	if err := s.Apply(model.MustParseOp("add a0 10.0.0.1/24")); err != nil {
		t.Fatal(err)
	}
	err := s.Apply(model.MustParseOp("del a0 10.0.0.1/24"))
	e := wantErr(t, err, ErrExited, "exited with status 3",
		`while routefuzz was asking "del a0 10.0.0.1/24"`, "last 20 lines of its standard error",
		"helper: stderr line 25", `panic: cannot handle "del a0 10.0.0.1/24"`)
	if !errors.Is(err, sut.ErrCrash) {
		t.Errorf("a crash on an op does not wrap sut.ErrCrash")
	}
	if len(e.Stderr) != stderrLines || slices.Contains(e.Stderr, "helper: stderr line 6") {
		t.Errorf("stderr tail %q, want the last %d lines", e.Stderr, stderrLines)
	}
	// Until Reset, the stack says it has no program to ask.
	_, err = s.Routes()
	wantErr(t, err, ErrExited, "is not running", `"routes"`)
	// Reset starts a crashed program again.
	if err := s.Reset(cfg); err != nil {
		t.Fatal(err)
	}
	if err := s.Apply(model.MustParseOp("add a0 10.0.0.1/24")); err != nil {
		t.Fatal(err)
	}
}

func TestKilledBySignal(t *testing.T) {
	s := start(t, Options{}, "-on", "routes", "-do", "sigkill")
	if err := s.Reset(cfg); err != nil {
		t.Fatal(err)
	}
	_, err := s.Routes()
	wantErr(t, err, ErrExited, "killed by signal 9 (killed)", `"routes"`)
}

func TestClosedOutput(t *testing.T) {
	s := start(t, Options{}, "-on", "addrs", "-do", "close")
	if err := s.Reset(cfg); err != nil {
		t.Fatal(err)
	}
	// The program never exits: it sleeps after closing its output. The
	// grace it gets is the timeout, if shorter than two seconds.
	s.o.Timeout = 100 * time.Millisecond
	_, err := s.Addrs()
	wantErr(t, err, ErrExited, "closed its standard output", `"addrs"`)
}

// TestHang runs programs that provably never answer an add: the helper
// sleeps for an hour, or its grandchild holds its output open while it
// sleeps. Their handshake and reset have a minute; only the add, which
// no scheduler can make succeed, gets a short timeout.
func TestHang(t *testing.T) {
	for _, do := range []string{"hang", "spawnhang"} {
		t.Run(do, func(t *testing.T) {
			starts := filepath.Join(t.TempDir(), "starts")
			var tr syncBuf
			s := start(t, Options{Trace: &tr}, "-on", "add", "-do", do, "-starts", starts)
			if err := s.Reset(cfg); err != nil {
				t.Fatal(err)
			}
			s.o.Timeout = 50 * time.Millisecond
			err := s.Apply(model.MustParseOp("add a0 10.0.0.1/24"))
			wantErr(t, err, ErrTimeout, `did not answer "add a0 10.0.0.1/24" within 50ms`)
			if !errors.Is(err, sut.ErrHang) || errors.Is(err, sut.ErrCrash) {
				t.Errorf("a hang on an op: errors.Is(sut.ErrHang) = %v, errors.Is(sut.ErrCrash) = %v; want true, false",
					errors.Is(err, sut.ErrHang), errors.Is(err, sut.ErrCrash))
			}
			if do == "hang" {
				wantErr(t, err, ErrTimeout, "thinking very hard")
			}
			// Until Reset, nothing more is asked of the killed program.
			if _, err := s.Routes(); !errors.Is(err, ErrExited) {
				t.Errorf("Routes after a hang: %v, want ErrExited", err)
			}
			// A hang is a finding: the next Reset starts the program
			// afresh, so that a harness can replay the order.
			s.o.Timeout = time.Minute
			if err := s.Reset(cfg); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Routes(); err != nil {
				t.Fatal(err)
			}
			if err := s.Close(); err != nil {
				t.Error(err)
			}
			if b, err := os.ReadFile(starts); err != nil || string(b) != "start\nstart\n" {
				t.Errorf("the program started %q (%v), want twice", b, err)
			}
			var asked []string
			for _, l := range strings.Split(tr.String(), "\n") {
				if r, ok := strings.CutPrefix(l, "> "); ok {
					asked = append(asked, r)
				}
			}
			want := []string{"hello routefuzz 1", "reset a0 a1", "add a0 10.0.0.1/24",
				"hello routefuzz 1", "reset a0 a1", "routes", "quit"}
			if !slices.Equal(asked, want) {
				t.Errorf("requests sent %q, want %q", asked, want)
			}
		})
	}
}

// TestHangBeforeOps runs programs that never answer the handshake or the
// reset: a harness failure, not a finding, and the stack stays failed,
// since every further check would wait out the timeout too.
func TestHangBeforeOps(t *testing.T) {
	_, err := Start(helperCmd("-on", "hello", "-do", "hang"), Options{Timeout: 50 * time.Millisecond})
	wantErr(t, err, ErrTimeout, `did not answer "hello routefuzz 1"`)
	if errors.Is(err, sut.ErrHang) {
		t.Errorf("a hang on the handshake wraps sut.ErrHang")
	}

	starts := filepath.Join(t.TempDir(), "starts")
	s := start(t, Options{}, "-on", "reset", "-do", "hang", "-starts", starts)
	s.o.Timeout = 50 * time.Millisecond
	err = s.Reset(cfg)
	wantErr(t, err, ErrTimeout, `did not answer "reset a0 a1"`)
	if errors.Is(err, sut.ErrHang) {
		t.Errorf("a hang on reset wraps sut.ErrHang")
	}
	for i := range 2 {
		if err2 := s.Reset(cfg); err2 != err {
			t.Errorf("Reset %d after a timeout: %v, want the timeout again", i+1, err2)
		}
	}
	if _, err2 := s.Routes(); err2 != err {
		t.Errorf("Routes after a timeout: %v, want the timeout again", err2)
	}
	if b, err := os.ReadFile(starts); err != nil || string(b) != "start\n" {
		t.Errorf("the program started %q (%v), want once", b, err)
	}
}

// TestFindings pins which failures are the program's bugs (sut.ErrCrash,
// sut.ErrHang: on an op, routes or addrs, after the handshake) and which
// stay harness failures.
func TestFindings(t *testing.T) {
	add := func(s *Stack) error { return s.Apply(model.MustParseOp("add a0 10.0.0.1/24")) }
	routes := func(s *Stack) error { _, err := s.Routes(); return err }
	addrs := func(s *Stack) error { _, err := s.Addrs(); return err }
	tests := []struct {
		on, do  string
		request func(*Stack) error
		kind    error
		finding error
	}{
		{"add", "crash", add, ErrExited, sut.ErrCrash},
		{"routes", "sigkill", routes, ErrExited, sut.ErrCrash},
		{"addrs", "close", addrs, ErrExited, sut.ErrCrash},
		{"add", "exitheld", add, ErrExited, sut.ErrCrash},
		{"add", "garbage", add, ErrProtocol, sut.ErrCrash},
		{"add", "extra", add, ErrProtocol, sut.ErrCrash},
		{"routes", "badroute", routes, ErrProtocol, sut.ErrCrash},
		{"add", "hang", add, ErrTimeout, sut.ErrHang},
		{"routes", "unsupported", routes, ErrUnsupported, nil},
		{"routes", "longline", routes, ErrLimit, nil},
		{"reset", "crash", func(s *Stack) error { return s.Reset(cfg) }, ErrExited, nil},
		{"reset", "garbage", func(s *Stack) error { return s.Reset(cfg) }, ErrProtocol, nil},
	}
	for _, tt := range tests {
		t.Run(tt.on+"-"+tt.do, func(t *testing.T) {
			s := start(t, Options{}, "-on", tt.on, "-do", tt.do)
			if tt.on != "reset" {
				if err := s.Reset(cfg); err != nil {
					t.Fatal(err)
				}
			}
			if tt.do == "hang" {
				s.o.Timeout = 100 * time.Millisecond // it never answers
			}
			err := tt.request(s)
			wantErr(t, err, tt.kind)
			crash, hang := errors.Is(err, sut.ErrCrash), errors.Is(err, sut.ErrHang)
			if crash != (tt.finding == sut.ErrCrash) || hang != (tt.finding == sut.ErrHang) {
				t.Errorf("errors.Is(sut.ErrCrash) = %v, errors.Is(sut.ErrHang) = %v; want the finding %v", crash, hang, tt.finding)
			}
		})
	}
	// Before the handshake is complete, nothing is a finding.
	for _, args := range [][]string{
		{"-on", "hello", "-do", "crash"},
		{"-on", "hello", "-do", "garbage"},
		{"-hello", "hello routefuzz 2"},
		{"-hello", "hello routefuzz 1 colour=blue"},
	} {
		_, err := Start(helperCmd(args...), Options{Timeout: time.Minute})
		if err == nil || errors.Is(err, sut.ErrCrash) || errors.Is(err, sut.ErrHang) {
			t.Errorf("%q: got %v, want a harness failure wrapping neither sut.ErrCrash nor sut.ErrHang", args, err)
		}
	}
	_, err := Start("/nonexistent/routefuzz-stack", Options{})
	if errors.Is(err, sut.ErrCrash) || errors.Is(err, sut.ErrHang) {
		t.Errorf("a program that does not start: %v wraps a finding", err)
	}
}

// TestExitWhileOutputHeld runs a program that exits while its grandchild
// holds its output open: the exit is reported at once, with its status,
// not as a timeout a minute later.
func TestExitWhileOutputHeld(t *testing.T) {
	s := start(t, Options{}, "-on", "add", "-do", "exitheld")
	if err := s.Reset(cfg); err != nil {
		t.Fatal(err)
	}
	err := s.Apply(model.MustParseOp("add a0 10.0.0.1/24"))
	wantErr(t, err, ErrExited, "exited with status 7", `while routefuzz was asking "add a0 10.0.0.1/24"`,
		"helper: exiting, my child keeps my output")
}

// TestAnswerLimits runs a program that answers "routes" with valid lines
// and never ".": the answer stops at the bound, with an error naming it.
func TestAnswerLimits(t *testing.T) {
	for _, tt := range []struct {
		o    Options
		want []string
	}{
		{Options{MaxAnswerLines: 1000}, []string{"more than 1000 lines", "-max-answer-lines"}},
		{Options{MaxAnswerBytes: 10000}, []string{"more than 10000 bytes", "-max-answer-bytes"}},
		{Options{}, []string{"more than 100000 lines", "-max-answer-lines"}},
	} {
		s := start(t, tt.o, "-on", "routes", "-do", "endless")
		if err := s.Reset(cfg); err != nil {
			t.Fatal(err)
		}
		_, err := s.Routes()
		wantErr(t, err, ErrLimit, append(tt.want, `answered "routes"`)...)
		if errors.Is(err, sut.ErrCrash) || errors.Is(err, sut.ErrHang) {
			t.Errorf("a limit of routefuzz's is taken for a finding")
		}
		// The program was stopped; the next check starts it again.
		if err := s.Reset(cfg); err != nil {
			t.Fatal(err)
		}
	}
}

func TestLongLine(t *testing.T) {
	s := start(t, Options{MaxLineBytes: 1000}, "-on", "routes", "-do", "longline")
	if err := s.Reset(cfg); err != nil {
		t.Fatal(err)
	}
	_, err := s.Routes()
	wantErr(t, err, ErrLimit, "longer than 1000 bytes", `"routes"`, "-max-line-bytes")
}

// TestStderrFlood runs a program that writes 1 MiB of 2-byte lines on its
// standard error before it answers; the tail keeps the last lines.
func TestStderrFlood(t *testing.T) {
	s := start(t, Options{}, "-on", "add", "-do", "flood")
	if err := s.Reset(cfg); err != nil {
		t.Fatal(err)
	}
	if err := s.Apply(model.MustParseOp("add a0 10.0.0.1/24")); err != nil {
		t.Fatal(err)
	}
	p := s.p
	s.Close()
	if ls := p.stderr.lines(); len(ls) != stderrLines || ls[0] != "x" || ls[stderrLines-1] != "x" {
		t.Errorf("stderr tail %q, want %d lines \"x\"", ls, stderrLines)
	}
}

// TestQuoted runs a program that writes escape sequences and invalid
// UTF-8: the error shows them quoted, never raw.
func TestQuoted(t *testing.T) {
	s := start(t, Options{}, "-on", "add", "-do", "escape")
	if err := s.Reset(cfg); err != nil {
		t.Fatal(err)
	}
	err := s.Apply(model.MustParseOp("add a0 10.0.0.1/24"))
	wantErr(t, err, ErrProtocol, `"helper: \x1b[31mred\x1b[0m and \xff\xfe"`, `"\x1b]0;owned\a"`)
	if msg := err.Error(); strings.ContainsAny(msg, "\x1b\a") || !utf8.ValidString(msg) {
		t.Errorf("the error holds raw control characters or invalid UTF-8: %q", msg)
	}
}

// TestDuplicateRoute runs a program that lists a prefix route once per
// address needing it: the repetition must be a divergence of the routes,
// shown as an extra route, not collapsed away.
func TestDuplicateRoute(t *testing.T) {
	s := start(t, Options{}, "-dup")
	ops := []model.Op{model.MustParseOp("add a0 10.0.0.1/24"), model.MustParseOp("add a0 10.0.0.2/24")}
	d, err := check.Replay("exec", s, cfg, ops, nil)
	if err != nil {
		t.Fatal(err)
	}
	if d == nil {
		t.Fatal("a route listed twice was not found diverging")
	}
	report := d.Report()
	t.Log("\n" + report)
	wantRoutes, gotRoutes := check.Routes.Of(d)
	if len(d.Ops) != 2 || d.Aspects() != check.RoutesAspect {
		t.Errorf("diverges after %d ops in %s, want after op 2 in routes only", len(d.Ops), d.Aspects())
	}
	dup := model.MustParseRoute("10.0.0.0/24 dev a0 src 10.0.0.1")
	if n := countRoute(gotRoutes, dup); n != 2 {
		t.Errorf("the stack's table holds %q %d times, want 2", dup, n)
	}
	if n := countRoute(wantRoutes, dup); n != 1 {
		t.Errorf("the model's table holds %q %d times, want 1", dup, n)
	}
	if !strings.Contains(report, "routes (- missing from exec, + extra in exec)") {
		t.Errorf("the report does not say the routes differ:\n%s", report)
	}
	if !showsExtra(report, dup) {
		t.Errorf("the report does not show %q as an extra route:\n%s", dup, report)
	}
}

// showsExtra reports whether report has a row "+ | r": r in the stack's
// column only.
func showsExtra(report string, r model.Route) bool {
	for _, l := range strings.Split(report, "\n") {
		if rest, ok := strings.CutPrefix(l, "  + "); ok && strings.TrimSpace(rest) == "| "+r.String() {
			return true
		}
	}
	return false
}

// TestDuplicateRouteHunt hunts the same program with props.Hunt: the
// repetition is found and shrunk to two addresses sharing a prefix route.
func TestDuplicateRouteHunt(t *testing.T) {
	s := start(t, Options{}, "-dup")
	res, err := props.Hunt(s, props.Config{Name: "exec", Promote: true, Attrs: true}, props.Budget{Seed: 1, Checks: 100})
	if err != nil {
		t.Fatal(err)
	}
	t.Log(res.Summary("exec"))
	d := res.Minimal
	if d == nil {
		t.Fatal("a route listed twice was not found diverging")
	}
	t.Log("\n" + d.Report())
	if len(d.Ops) != 2 || d.Ops[0].Kind != model.Add || d.Ops[1].Kind != model.Add ||
		d.Ops[0].Adapter != d.Ops[1].Adapter || d.Ops[0].Prefix.Masked() != d.Ops[1].Prefix.Masked() {
		t.Fatalf("minimal sequence:\n%s\nwant two adds in one prefix on one adapter", check.FormatOps(d.Ops))
	}
	wantRoutes, gotRoutes := check.Routes.Of(d)
	if d.Aspects() != check.RoutesAspect {
		t.Errorf("differs in %s, want routes only", d.Aspects())
	}
	var extra []model.Route
	for _, l := range model.Diff(wantRoutes, gotRoutes) {
		if l.InWant != l.InGot {
			if l.InWant {
				t.Errorf("route %s missing from the stack's table", l.Want)
			}
			extra = append(extra, l.Got)
		}
	}
	if len(extra) != 1 || extra[0].Kind != model.Connected || countRoute(wantRoutes, extra[0]) != 1 {
		t.Errorf("extra routes %v, want one repeated connected route", extra)
	} else if !showsExtra(d.Report(), extra[0]) {
		t.Errorf("the report does not show the extra route %s", extra[0])
	}
}

func countRoute(t model.Table, r model.Route) int {
	n := 0
	for _, x := range t {
		if x == r {
			n++
		}
	}
	return n
}

func TestClose(t *testing.T) {
	s := start(t, Options{})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	wantErr(t, s.Reset(cfg), ErrClosed)
	wantErr(t, s.Apply(model.MustParseOp("add a0 10.0.0.1/24")), ErrClosed)
}

func TestUndeclaredFamilyNotSent(t *testing.T) {
	s := start(t, Options{}, "-hello", "hello routefuzz 1 families=6")
	if err := s.Reset(cfg); err != nil {
		t.Fatal(err)
	}
	wantErr(t, s.Apply(model.MustParseOp("add a0 10.0.0.1/24")), ErrUnsupported, "does not send")
	wantErr(t, s.Apply(model.MustParseOp("add a0 2001:db8::1/64 metric 5")), ErrUnsupported, "metrics=0")
	if err := s.Apply(model.MustParseOp("add a0 2001:db8::1/64")); err != nil {
		t.Fatal(err) // the conversation is intact
	}
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

func TestTrace(t *testing.T) {
	var tr syncBuf
	s := start(t, Options{Trace: &tr})
	s.Reset(cfg)
	s.Apply(model.MustParseOp("add a0 10.0.0.1/24"))
	s.Routes()
	s.Close()
	want := "> hello routefuzz 1\n< " + goodHello + "\n> reset a0 a1\n< ok\n> add a0 10.0.0.1/24\n< ok\n> routes\n" +
		"< 10.0.0.0/24 dev a0 src 10.0.0.1\n< local 10.0.0.1/32 dev a0 src 10.0.0.1\n< broadcast 10.0.0.255/32 dev a0 src 10.0.0.1\n< .\n> quit\n"
	var got strings.Builder
	for _, l := range strings.SplitAfter(tr.String(), "\n") {
		if !strings.HasPrefix(l, "# ") {
			got.WriteString(l)
		}
	}
	if got.String() != want {
		t.Errorf("trace:\n%s\nwant:\n%s", got.String(), want)
	}
}

func TestSplit(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"prog", []string{"prog"}},
		{"  python3   stack.py\t-v  ", []string{"python3", "stack.py", "-v"}},
		{`sh -c 'exec ./x 2>>log'`, []string{"sh", "-c", "exec ./x 2>>log"}},
		{`a "b c" d\ e ''`, []string{"a", "b c", "d e", ""}},
		{`"a\"b\\c\d$"`, []string{`a"b\c\d$`}},
		{`'it'\''s'`, []string{"it's"}},
	}
	for _, tt := range tests {
		got, err := Split(tt.in)
		if err != nil || !slices.Equal(got, tt.want) {
			t.Errorf("Split(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []string{"", "  ", `'a`, `"a`, `a\`} {
		if _, err := Split(bad); err == nil {
			t.Errorf("Split(%q): no error", bad)
		}
	}
	for _, w := range []string{"plain", "", "with space", "it's", `"q"`, `back\slash`, "/tmp/x y/z", "$HOME"} {
		got, err := Split(Quote(w) + " next")
		if err != nil || !slices.Equal(got, []string{w, "next"}) {
			t.Errorf("Split(Quote(%q)) = %q, %v", w, got, err)
		}
	}
}

// A program that declares lookups=1 and routes=0 is asked "lookup DST"
// for every probe and never "routes"; it is checked on its lookups (and
// addresses) alone, and a wrong answer is a lookups divergence.
func TestLookupsOnly(t *testing.T) {
	const hello = goodHello + " lookups=1 routes=0"
	cfg := model.Config{Adapters: []string{"a0", "a1"}, Promote: true}
	ops := []model.Op{model.MustParseOp("add a0 10.0.0.1/24"), model.MustParseOp("add a0 10.0.0.2/24"), model.MustParseOp("add a1 2001:db8::1/64")}
	s := start(t, Options{}, "-hello", hello)
	if d, err := check.Replay("exec", s, cfg, ops, nil); d != nil || err != nil {
		t.Fatalf("the fixed stack's lookups differ: %v %v", d, err)
	}
	s = start(t, Options{}, "-hello", hello, "-lookupwrong")
	d, err := check.Replay("exec", s, cfg, ops, nil)
	if err != nil || d == nil {
		t.Fatalf("a wrong src was not found: %v", err)
	}
	if d.Aspects() != check.Lookups.Aspect() || len(d.Ops) != 2 {
		t.Errorf("differs in %s after %d ops, want lookups after 2:\n%s", d.Aspects(), len(d.Ops), d.Report())
	}
	if !strings.Contains(d.Report(), "! 10.0.0.2 local src 10.0.0.1 | 10.0.0.2 local src 10.0.0.2") {
		t.Errorf("report:\n%s", d.Report())
	}
}
