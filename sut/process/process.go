// Package process runs an implementation under test as a separate program,
// in any language, and talks to it over its standard input and output with
// routefuzz's external-process protocol, version 1 (PROTOCOL.md at the root
// of the repository). Every message is one line in the grammar the rest of
// routefuzz uses: requests are model.Op.String lines, answers are parsed with
// model.ParseRoute and model.ParseAddr.
//
// The program is started once, by Start, and reset before every check. When
// it misbehaves, the Stack returns an *Error naming the request and showing
// the end of the program's standard error. An *Error wraps none of model's
// result sentinels, so the check engine never takes it for a divergence.
// When the program fails on an op, routes or addrs request, after its
// handshake, the *Error also wraps sut.ErrCrash (it exited, was killed, or
// answered outside the protocol) or sut.ErrHang (it did not answer within
// the timeout): a bug of the program, which a harness shrinks and reports
// as a finding. Everything else (the program does not start, speaks
// another version, breaks the handshake or the reset, exceeds a limit of
// Options, declines a request with "err unsupported") is a harness
// failure.
//
// Nothing the program starts outlives it: Close, a failure and SIGINT or
// SIGTERM (through internal/interrupt) kill its process group and every
// descendant that left it (see tree_linux.go).
package process

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/routefuzz/routefuzz/internal/interrupt"
	"github.com/routefuzz/routefuzz/model"
	"github.com/routefuzz/routefuzz/sut"
)

// Version is the protocol version this package speaks.
const Version = 1

// DefaultTimeout bounds each request when Options.Timeout is zero.
const DefaultTimeout = 5 * time.Second

// The default bounds of one answer, when Options leaves them zero. A
// route or address line is under 100 bytes and a check's table holds tens
// of routes: the bounds only stop a program that answers without end.
const (
	DefaultMaxAnswerLines = 100_000
	DefaultMaxAnswerBytes = 16 << 20
	DefaultMaxLineBytes   = 1 << 20
)

// stderrLines is how many of the program's last stderr lines an *Error
// shows.
const stderrLines = 20

// exitGrace bounds how long the package waits, once the program has
// exited, for the rest of its output to arrive.
const exitGrace = 2 * time.Second

// The kinds of failure an *Error reports; test with errors.Is. None of them
// is a model result.
var (
	ErrStart       = errors.New("program did not start")
	ErrProtocol    = errors.New("answer outside the protocol")
	ErrVersion     = errors.New("wrong protocol version")
	ErrCapability  = errors.New("bad capability")
	ErrExited      = errors.New("program exited")
	ErrTimeout     = errors.New("program did not answer in time")
	ErrUnsupported = errors.New("request unsupported by the program")
	ErrLimit       = errors.New("answer over routefuzz's limit")
	ErrClosed      = errors.New("stack closed")
)

// Error is a failure of the program or of the conversation with it.
type Error struct {
	Cmd     string // the command line
	Request string // the request being made; "" when there was none
	Kind    error  // one of the Err variables above
	// Finding is sut.ErrCrash or sut.ErrHang when the failure is the
	// program's own bug, on an op, routes or addrs request after its
	// handshake; nil for a harness failure.
	Finding error
	Detail  string // what happened, as a phrase whose subject is the program; its text quoted
	// Stderr holds the last lines of the program's standard error, each
	// quoted (strconv.Quote) when it holds invalid UTF-8 or a character
	// that is not printable.
	Stderr  []string
	Started bool // whether the program ran at all (else Stderr means nothing)
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "program %q %s", e.Cmd, e.Detail)
	if !e.Started {
		return b.String()
	}
	if len(e.Stderr) == 0 {
		b.WriteString("\n(its standard error is empty)")
		return b.String()
	}
	if len(e.Stderr) == 1 {
		b.WriteString("\nlast line of its standard error:")
	} else {
		fmt.Fprintf(&b, "\nlast %d lines of its standard error:", len(e.Stderr))
	}
	for _, l := range e.Stderr {
		b.WriteString("\n  | ")
		b.WriteString(l)
	}
	return b.String()
}

// Unwrap returns e.Kind and, when there is one, e.Finding.
func (e *Error) Unwrap() []error {
	if e.Finding != nil {
		return []error{e.Kind, e.Finding}
	}
	return []error{e.Kind}
}

// Options configures Start.
type Options struct {
	// Timeout bounds each request, from sending it to the last line of its
	// answer, including the handshake. DefaultTimeout if zero.
	Timeout time.Duration
	// Trace, if not nil, receives every line exchanged: "> " before a
	// request, "< " before an answer, "! " before a line of the program's
	// standard error, "# " before a note from the harness.
	Trace io.Writer
	// Dir is the program's working directory; relative program paths are
	// resolved from it. The caller's working directory if empty.
	Dir string
	// MaxAnswerLines bounds the lines of one routes or addrs answer, the
	// final "." not counted (DefaultMaxAnswerLines if zero), and
	// MaxAnswerBytes their bytes, newlines counted (DefaultMaxAnswerBytes
	// if zero). MaxLineBytes bounds any one line the program writes on its
	// standard output (DefaultMaxLineBytes if zero). An answer over a bound
	// is an *Error of kind ErrLimit, a harness failure that names the
	// bound.
	MaxAnswerLines int
	MaxAnswerBytes int
	MaxLineBytes   int
}

// Stack is an external program behind the sut.Stack interface. It is not
// safe for concurrent use.
type Stack struct {
	cmdline string
	args    []string
	o       Options
	caps    string // the capabilities of the first handshake
	shook   bool   // whether a handshake has succeeded
	limits  sut.Limits
	promote bool // the promotion the program declared
	keep    bool // the keep_addr_on_down the program declared

	p      *proc // the running program; nil when it is not running
	failed error // after a timeout, every call returns this
	closed bool

	traceMu sync.Mutex
}

// proc is one run of the program.
type proc struct {
	cmd    *exec.Cmd
	tree   *tree
	stdin  *os.File
	stdout *os.File
	errR   *os.File      // the read end of its standard error
	lines  chan string   // its stdout, one line at a time; closed at EOF
	quit   chan struct{} // closed by stop: the stdout reader stops sending
	// readDone is closed when the stdout reader has ended, after readErr
	// is set and before lines is closed.
	readDone chan struct{}
	readErr  error
	errDone  chan struct{} // closed when its stderr has been read to the end
	exited   chan struct{} // closed when Wait returns
	stderr   *tail
	stopOnce sync.Once
	remove   func() // removes the interrupt cleanup
}

// Start starts the program that cmdline names (split by Split, run
// directly, without a shell), makes the handshake and returns the Stack.
// It fails with an *Error when the program does not start, answers outside
// the protocol, speaks another version or declares a capability this
// package does not know.
func Start(cmdline string, o Options) (*Stack, error) {
	args, err := Split(cmdline)
	if err != nil {
		return nil, &Error{Cmd: cmdline, Kind: ErrStart, Detail: "cannot be run: " + err.Error()}
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.MaxAnswerLines <= 0 {
		o.MaxAnswerLines = DefaultMaxAnswerLines
	}
	if o.MaxAnswerBytes <= 0 {
		o.MaxAnswerBytes = DefaultMaxAnswerBytes
	}
	if o.MaxLineBytes <= 0 {
		o.MaxLineBytes = DefaultMaxLineBytes
	}
	s := &Stack{cmdline: cmdline, args: args, o: o}
	if err := s.start(); err != nil {
		return nil, err
	}
	return s, nil
}

// Limits returns what the program declared in its handshake.
func (s *Stack) Limits() sut.Limits {
	l := s.limits
	l.Kinds = slices.Clone(l.Kinds)
	l.Promote = slices.Clone(l.Promote)
	l.KeepAddrOnDown = slices.Clone(l.KeepAddrOnDown)
	l.Ops = slices.Clone(l.Ops)
	l.Attrs = slices.Clone(l.Attrs)
	return l
}

// Reset starts the program afresh if it failed since the last check (its
// process group and descendants were killed then), then sends "reset"
// with cfg's adapters. It returns an error wrapping
// sut.ErrUnsupported when cfg asks for a promotion setting other than the
// one the program declared.
func (s *Stack) Reset(cfg model.Config) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	if s.limits.IPv4 && cfg.Promote != s.promote {
		return fmt.Errorf("%w: program %q declared promote=%s", sut.ErrUnsupported, s.cmdline, bit(s.promote))
	}
	if len(s.limits.KeepAddrOnDown) > 0 && cfg.KeepAddrOnDown != s.keep {
		return fmt.Errorf("%w: program %q declared keep_addr_on_down=%s", sut.ErrUnsupported, s.cmdline, bit(s.keep))
	}
	if err := s.usable(); err != nil {
		return err
	}
	if s.p == nil {
		s.note("the program is not running; starting it again")
		if err := s.start(); err != nil {
			return err
		}
	}
	req := strings.TrimSpace("reset " + strings.Join(cfg.Adapters, " "))
	a, err := s.ask(req, nil)
	if err != nil {
		return err
	}
	if a != "ok" {
		return s.offProtocol(req, a, `"ok"`)
	}
	return nil
}

// Apply sends op and returns nil for "ok", a *model.OpError for "err
// RESULT [text]", RESULT being any result word of the model's but ok
// (model.ParseResult: exists, notfound, invalid, unreachable, badsrc,
// netdown), and an *Error for anything else: an answer with a word the
// model does not know is outside the protocol, named with the request.
func (s *Stack) Apply(op model.Op) error {
	req := op.String()
	if err := s.running(req); err != nil {
		return err
	}
	if err := op.Validate(); err != nil {
		// Not %w: a malformed op is the harness's, not a result.
		return fmt.Errorf("op %s has no form in the protocol: %v", req, err)
	}
	if why := s.limits.Unsupported(op); why != "" {
		return s.fail(req, ErrUnsupported, "declared %s, so routefuzz does not send %q", s.declared(op), req)
	}
	a, err := s.ask(req, nil)
	if err != nil {
		return err
	}
	if a == "ok" {
		return nil
	}
	verb, rest, _ := strings.Cut(a, " ")
	word, text, _ := strings.Cut(rest, " ")
	if verb == "err" {
		r, err := model.ParseResult(word)
		if err == nil && r != model.OK {
			return &model.OpError{Op: op, Result: r, Msg: strings.TrimSpace(text)}
		}
	}
	return s.offProtocol(req, a, `"ok" or "err `+errorWords()+` [TEXT]"`)
}

// errorWords returns the result words of an "err" answer, every result of
// the model's but ok: "exists|notfound|invalid|...".
func errorWords() string {
	var ws []string
	for r := model.OK + 1; r.Err() != nil; r++ {
		ws = append(ws, r.String())
	}
	return strings.Join(ws, "|")
}

// Routes sends "routes" and parses the answer with model.ParseRoute. The
// table keeps the program's repetitions (model.SortRoutes, not
// model.NewTable): a route printed twice is in it twice, so the check
// engine reports the second as an extra route, a divergence.
func (s *Stack) Routes() (model.Table, error) {
	const req = "routes"
	if err := s.running(req); err != nil {
		return nil, err
	}
	var rs []model.Route
	_, err := s.ask(req, func(l string) error {
		r, err := model.ParseRoute(l)
		if err != nil {
			return fmt.Errorf("outside the route grammar: %w", err)
		}
		rs = append(rs, r)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return model.SortRoutes(rs), nil
}

// Lookup sends "lookup DST" and parses the one-line answer with
// model.ParseLookup: the destination, then one answer ("10.0.0.2 dev a0
// src 10.0.0.1", "10.0.0.1 local src 10.0.0.1", "192.0.2.1
// unreachable"). The harness sends it only to a program that declared
// lookups=1.
func (s *Stack) Lookup(dst netip.Addr) (model.LookupResult, error) {
	req := "lookup " + dst.String()
	if err := s.running(req); err != nil {
		return model.LookupResult{}, err
	}
	a, err := s.ask(req, nil)
	if err != nil {
		return model.LookupResult{}, err
	}
	l, perr := model.ParseLookup(a)
	switch {
	case perr != nil:
		return l, s.offProtocol(req, a, "a lookup line: DST [local|broadcast|unreachable] [via GATEWAY] [dev ADAPTER] [src ADDRESS] ("+perr.Error()+")")
	case l.Dst != dst:
		return l, s.offProtocol(req, a, "a lookup line that starts with "+dst.String())
	case len(l.Or) > 0:
		return l, s.offProtocol(req, a, "one answer, without \"or\"")
	}
	return l, nil
}

// Addrs sends "addrs" and parses the answer with model.ParseAddr.
func (s *Stack) Addrs() ([]model.Addr, error) {
	const req = "addrs"
	if err := s.running(req); err != nil {
		return nil, err
	}
	var as []model.Addr
	_, err := s.ask(req, func(l string) error {
		x, err := model.ParseAddr(l)
		if err != nil {
			return fmt.Errorf("outside the address grammar: %w", err)
		}
		as = append(as, x)
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(as, model.Addr.Compare)
	return as, nil
}

// Close sends "quit", closes the program's input and waits briefly for it
// to exit, then kills its process group and every descendant, and waits
// until they are gone. It is safe to call twice.
func (s *Stack) Close() error {
	if s.closed {
		return nil
	}
	s.closed = true
	if p := s.p; p != nil {
		p.tree.remember()
		s.trace("> quit")
		p.stdin.SetWriteDeadline(time.Now().Add(min(s.o.Timeout, time.Second)))
		io.WriteString(p.stdin, "quit\n")
		p.stdin.Close()
		select {
		case <-p.exited:
		case <-time.After(min(s.o.Timeout, time.Second)):
		}
		s.stop()
	}
	return nil
}

// usable returns an error when no request can be made. Only Reset starts
// a program that has exited.
func (s *Stack) usable() error {
	switch {
	case s.closed:
		return &Error{Cmd: s.cmdline, Kind: ErrClosed, Detail: "is no longer run: the stack was closed"}
	case s.failed != nil:
		return s.failed
	}
	return nil
}

// running returns an error when the program is not running.
func (s *Stack) running(req string) error {
	if err := s.usable(); err != nil {
		return err
	}
	if s.p == nil {
		return &Error{Cmd: s.cmdline, Request: req, Kind: ErrExited, Started: true,
			Detail: fmt.Sprintf("is not running (it failed earlier; Reset starts it again), so routefuzz cannot ask %q", req)}
	}
	return nil
}

// start runs the program and makes the handshake. On failure no program
// is left running.
func (s *Stack) start() error {
	p, err := s.launch()
	if err != nil {
		return err
	}
	s.p = p
	if err := s.handshake(); err != nil {
		if s.p != nil {
			s.stop()
		}
		return err
	}
	return nil
}

func (s *Stack) handshake() error {
	const req = "hello routefuzz 1"
	a, err := s.ask(req, nil)
	if err != nil {
		return err
	}
	if a == "err" || strings.HasPrefix(a, "err ") {
		return s.offProtocol(req, a, `"hello routefuzz 1 [CAPABILITY...]"`)
	}
	f := strings.Fields(a)
	if len(f) < 3 || f[0] != "hello" || f[1] != "routefuzz" {
		return s.offProtocol(req, a, `"hello routefuzz 1 [CAPABILITY...]"`)
	}
	if f[2] != "1" {
		return s.fail(req, ErrVersion, "speaks protocol version %s; routefuzz speaks version %d (it answered %q to %q)", printable(f[2]), Version, a, req)
	}
	caps := strings.Join(f[3:], " ")
	if s.shook {
		if caps != s.caps {
			return s.fail(req, ErrCapability, "changed its capabilities on restart, from %q to %q", s.caps, caps)
		}
		return nil
	}
	l, promote, err := parseCaps(f[3:])
	if err != nil {
		return s.fail(req, ErrCapability, "answered %q to %q: %v", a, req, err)
	}
	s.caps, s.limits, s.promote, s.shook = caps, l, promote, true
	s.keep = len(l.KeepAddrOnDown) > 0 && l.KeepAddrOnDown[0]
	return nil
}

// parseCaps reads the capabilities of a hello answer. The op kinds a
// program takes (ops=) and the attribute capabilities (model.Capabilities:
// metrics=, noprefixroute=, lifetimes=) come from the op alphabet; a
// program that declares no ops= takes model.V1Ops, and one that declares
// no attribute capability is sent no attribute.
func parseCaps(caps []string) (l sut.Limits, promote bool, err error) {
	l = sut.Limits{IPv4: true, IPv6: true, Promote: []bool{true}, KeepAddrOnDown: []bool{false}, Ops: model.V1Ops()}
	promote = true
	seen := map[string]bool{}
	known := append([]string{"kinds", "promote", "keep_addr_on_down", "families", "ops", "lookups", "routes", "ipv4_per_adapter", "ipv6_per_adapter"}, model.Capabilities()...)
	routes, lookups := true, false
	for _, c := range caps {
		k, v, ok := strings.Cut(c, "=")
		if !ok {
			return l, false, fmt.Errorf("capability %q is not KEY=VALUE", c)
		}
		if seen[k] {
			return l, false, fmt.Errorf("capability %q is declared twice", k)
		}
		seen[k] = true
		bad := func(want string) error {
			return fmt.Errorf("capability %q has the value %q; want %s", k, v, want)
		}
		switch k {
		case "kinds":
			l.Kinds = nil
			for _, w := range strings.Split(v, ",") {
				kind, err := model.ParseRouteKind(w)
				if err != nil {
					return l, false, bad("a comma-separated list of connected, local, broadcast")
				}
				if !slices.Contains(l.Kinds, kind) {
					l.Kinds = append(l.Kinds, kind)
				}
			}
			slices.Sort(l.Kinds)
			continue
		case "ops":
			l.Ops = nil
			for _, w := range strings.Split(v, ",") {
				op, err := model.ParseOpKind(w)
				if err != nil {
					return l, false, bad("a comma-separated list of " + opNames())
				}
				if !slices.Contains(l.Ops, op) {
					l.Ops = append(l.Ops, op)
				}
			}
			slices.Sort(l.Ops)
			continue
		case "promote":
			if v != "0" && v != "1" {
				return l, false, bad("0 or 1")
			}
			promote = v == "1"
			l.Promote = []bool{promote}
			continue
		case "keep_addr_on_down":
			if v != "0" && v != "1" {
				return l, false, bad("0 or 1")
			}
			l.KeepAddrOnDown = []bool{v == "1"}
			continue
		case "ipv4_per_adapter", "ipv6_per_adapter":
			// The most addresses of the family an adapter holds at
			// once (lwIP: ipv4_per_adapter=1): an add beyond it is
			// never sent.
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 {
				return l, false, bad("a number of addresses, 1 or more")
			}
			if k == "ipv4_per_adapter" {
				l.MaxIPv4 = n
			} else {
				l.MaxIPv6 = n
			}
			continue
		case "lookups", "routes":
			// lookups=1: it answers "lookup DST"; routes=0: it keeps
			// no kernel-style table and is never asked "routes".
			if v != "0" && v != "1" {
				return l, false, bad("0 or 1")
			}
			if k == "lookups" {
				lookups = v == "1"
			} else {
				routes = v == "1"
			}
			continue
		case "families":
			l.IPv4, l.IPv6 = false, false
			for _, w := range strings.Split(v, ",") {
				switch w {
				case "4":
					l.IPv4 = true
				case "6":
					l.IPv6 = true
				default:
					return l, false, bad("a comma-separated list of 4, 6")
				}
			}
			continue
		}
		// An attribute capability: "metrics=1", "noprefixroute=1",
		// "lifetimes=1", one for each capability of the alphabet's
		// attributes (attributes that go together share one).
		if !slices.Contains(model.Capabilities(), k) {
			return l, false, fmt.Errorf("capability %q is unknown (want %s)", k, strings.Join(known, ", "))
		}
		if v != "0" && v != "1" {
			return l, false, bad("0 or 1")
		}
		if v == "1" {
			l.Attrs = append(l.Attrs, k)
		}
	}
	if !l.IPv4 {
		l.Promote = nil // promotion is IPv4's: any setting does
	}
	if !routes || lookups {
		// The observables it shows, when they are not the default
		// (routes and addresses; every Stack method answers, but
		// "lookup" is sent only to a program that declared it).
		l.Observables = []string{"addresses"}
		if routes {
			l.Observables = append(l.Observables, "routes")
		}
		if lookups {
			l.Observables = append(l.Observables, "lookups")
		}
	} else {
		l.Observables = []string{"routes", "addresses"}
	}
	if !l.IPv6 || !l.TakesKind(model.Down) {
		// keep_addr_on_down is about IPv6 addresses on down: any
		// setting does (a protocol-1 program that declares nothing).
		l.KeepAddrOnDown = nil
	}
	return l, promote, nil
}

// declared says which of the program's capabilities rule op out.
func (s *Stack) declared(op model.Op) string {
	l := s.limits
	if !l.TakesKind(op.Kind) {
		var ns []string
		for _, k := range l.Ops {
			ns = append(ns, k.Spec().Token())
		}
		return "ops=" + strings.Join(ns, ",") // or declared none, and takes those of protocol 1
	}
	for _, a := range model.Attrs() {
		if a.Get(op) != 0 && !l.Takes(a) {
			return a.Capability + "=0"
		}
	}
	return "it does not support this address family"
}

// opNames returns the op alphabet's kinds as ops= names them, each
// kind's Token: "add, del, ..., route-add, route-del".
func opNames() string {
	var ns []string
	for _, sp := range model.Alphabet {
		ns = append(ns, sp.Token())
	}
	return strings.Join(ns, ", ")
}

// launch starts the program with its standard input, output and error on
// pipes, and the goroutines that read them and wait for it.
func (s *Stack) launch() (*proc, error) {
	var files []*os.File // every pipe end, closed on failure
	pipe := func() (r, w *os.File, err error) {
		r, w, err = os.Pipe()
		files = append(files, r, w)
		return r, w, err
	}
	closeAll := func() {
		for _, f := range files {
			if f != nil {
				f.Close()
			}
		}
	}
	inR, inW, err1 := pipe()
	outR, outW, err2 := pipe()
	errR, errW, err3 := pipe()
	if err := errors.Join(err1, err2, err3); err != nil {
		closeAll()
		return nil, &Error{Cmd: s.cmdline, Kind: ErrStart, Detail: "did not start: " + err.Error()}
	}
	p := &proc{
		stdin:    inW,
		stdout:   outR,
		errR:     errR,
		lines:    make(chan string, 16),
		quit:     make(chan struct{}),
		readDone: make(chan struct{}),
		errDone:  make(chan struct{}),
		exited:   make(chan struct{}),
		stderr:   &tail{n: stderrLines, trace: s.trace},
	}
	command := func(cgroup bool) {
		p.cmd = exec.Command(s.args[0], s.args[1:]...)
		p.cmd.Dir = s.o.Dir
		// Every end is an *os.File: Wait returns as soon as the program
		// exits, even while a descendant holds the pipes open.
		p.cmd.Stdin, p.cmd.Stdout, p.cmd.Stderr = inR, outW, errW
		setGroup(p.cmd)
		p.tree = newTree(p.cmd, cgroup)
	}
	command(true)
	err := p.cmd.Start()
	if p.tree.started(err) {
		command(false) // a Cmd cannot be started twice
		err = p.cmd.Start()
		p.tree.started(err)
	}
	inR.Close()
	outW.Close()
	errW.Close()
	if err != nil {
		closeAll()
		return nil, &Error{Cmd: s.cmdline, Kind: ErrStart, Detail: "did not start: " + err.Error()}
	}
	// The program's cleanup on SIGINT and SIGTERM, removed by stop.
	p.remove = interrupt.Register(func() {
		p.kill()
		p.tree.reap()
	})
	s.note(fmt.Sprintf("started %q, pid %d", s.cmdline, p.cmd.Process.Pid))
	go p.readStdout(s.o.MaxLineBytes)
	go func() {
		io.Copy(p.stderr, errR)
		close(p.errDone)
	}()
	go func() {
		p.cmd.Wait()
		close(p.exited)
	}()
	return p, nil
}

// readStdout hands the program's standard output to p.lines, one line at
// a time, until the end, a line longer than max bytes, or stop.
func (p *proc) readStdout(max int) {
	defer close(p.lines)
	defer close(p.readDone)
	sc := bufio.NewScanner(p.stdout)
	// The buffer holds a line, its newline and a carriage return.
	sc.Buffer(make([]byte, 0, min(4096, max+2)), max+2)
	for sc.Scan() {
		select {
		case p.lines <- strings.TrimRight(sc.Text(), " \t\r"):
		case <-p.quit:
			return
		}
	}
	p.readErr = sc.Err()
}

// ask sends req and reads its answer: one line, returned, or when each is
// not nil the lines up to a line holding ".", each handed to each as it
// arrives (so that a line outside the grammar is reported at once, not
// after a timeout) and none kept. A list answer that begins with "err"
// ends there. An answer "err unsupported" is an *Error. One timeout covers
// the whole exchange; a list answer is bounded by Options.MaxAnswerLines
// and MaxAnswerBytes.
func (s *Stack) ask(req string, each func(string) error) (string, error) {
	list := each != nil
	p := s.p
	select {
	case l, ok := <-p.lines:
		if ok {
			s.trace("< " + printable(l))
			return "", s.fail(req, ErrProtocol, "wrote %q unasked, before the request %q", l, req)
		}
		return "", s.gone(req, true)
	case <-p.exited:
		return "", s.gone(req, true)
	default:
	}
	timer := time.NewTimer(s.o.Timeout)
	defer timer.Stop()
	s.trace("> " + req)
	p.stdin.SetWriteDeadline(time.Now().Add(s.o.Timeout))
	if _, err := io.WriteString(p.stdin, req+"\n"); err != nil {
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return "", s.timeout(req)
		}
		return "", s.gone(req, false)
	}
	exited := p.exited
	var grace <-chan time.Time
	n, size := 0, 0
	for {
		select {
		case l, ok := <-p.lines:
			if !ok {
				return "", s.gone(req, false)
			}
			s.trace("< " + printable(l))
			if w, text, _ := strings.Cut(l, " "); l == "err unsupported" || w == "err" && strings.HasPrefix(text, "unsupported ") {
				return "", s.fail(req, ErrUnsupported, "does not support %q: it answered %q", req, l)
			}
			if !list {
				return l, nil
			}
			if l == "." {
				return "", nil
			}
			if n == 0 && strings.HasPrefix(l, "err") {
				return "", s.offProtocol(req, l, `lines ending with "."`)
			}
			n, size = n+1, size+len(l)+1
			switch {
			case n > s.o.MaxAnswerLines:
				return "", s.fail(req, ErrLimit, "answered %q with more than %d lines, routefuzz's limit for one answer (raise it with -max-answer-lines)", req, s.o.MaxAnswerLines)
			case size > s.o.MaxAnswerBytes:
				return "", s.fail(req, ErrLimit, "answered %q with more than %d bytes, routefuzz's limit for one answer (raise it with -max-answer-bytes)", req, s.o.MaxAnswerBytes)
			}
			if err := each(l); err != nil {
				return "", s.fail(req, ErrProtocol, "answered %q with a bad line: %v", req, err)
			}
		case <-exited:
			// The program has exited. What it started may still hold its
			// output open: kill it, take what was written before the exit,
			// then report the exit.
			p.kill()
			exited, grace = nil, time.After(exitGrace)
		case <-grace:
			return "", s.gone(req, false)
		case <-timer.C:
			return "", s.timeout(req)
		}
	}
}

// offProtocol reports an answer that is not what req calls for.
func (s *Stack) offProtocol(req, got, want string) error {
	return s.fail(req, ErrProtocol, "answered %q with %q, which is outside the protocol (want %s)", req, got, want)
}

// finding returns what a failure of kind on req says about the program:
// sut.ErrCrash or sut.ErrHang for a failure on an op, routes or addrs
// request (always after a handshake), nil for a harness failure.
func finding(req string, kind error) error {
	switch verb, _, _ := strings.Cut(req, " "); verb {
	case "hello", "reset":
		return nil
	}
	if interrupt.Handling() {
		return nil // killed by routefuzz's own signal cleanup: no bug
	}
	switch kind {
	case ErrExited, ErrProtocol:
		return sut.ErrCrash
	case ErrTimeout:
		return sut.ErrHang
	}
	return nil
}

// fail returns an *Error about the running program and req. Unless the
// program merely declined the request (ErrUnsupported), the conversation
// can no longer be trusted: fail stops the program, and the next Reset
// starts it again.
func (s *Stack) fail(req string, kind error, format string, args ...any) error {
	e := &Error{Cmd: s.cmdline, Request: req, Kind: kind, Finding: finding(req, kind), Detail: fmt.Sprintf(format, args...), Started: true}
	if p := s.p; p != nil {
		if kind != ErrUnsupported {
			s.stop()
		}
		e.Stderr = p.stderr.lines()
	}
	s.note(e.Detail)
	return e
}

// stop kills the running program, its process group and its descendants,
// and waits (boundedly) until they are gone and its standard error has
// been read to the end.
func (s *Stack) stop() {
	p := s.p
	s.p = nil
	p.stopOnce.Do(func() {
		close(p.quit)
		p.kill()
		p.stdin.Close()
		expired := make(chan struct{})
		defer time.AfterFunc(exitGrace, func() { close(expired) }).Stop()
		select {
		case <-p.exited:
		case <-expired:
		}
		p.tree.reap()
		select {
		case <-p.errDone:
		case <-expired:
		}
		// Anything left holding the pipes is out of reach; stop reading.
		p.stdout.Close()
		p.errR.Close()
		p.remove()
	})
}

// gone reports a program that exited or closed its output while req was
// pending (before it was sent, if before). It waits briefly for the
// program to exit, to say how, and kills what is left of it. The next
// Reset starts it again.
func (s *Stack) gone(req string, before bool) error {
	p := s.p
	var readErr error
	select {
	case <-p.readDone:
		readErr = p.readErr
	default:
	}
	if errors.Is(readErr, bufio.ErrTooLong) {
		return s.fail(req, ErrLimit, "wrote a line longer than %d bytes in answer to %q, routefuzz's limit for one line (raise it with -max-line-bytes)", s.o.MaxLineBytes, req)
	}
	grace := min(s.o.Timeout, exitGrace)
	var how string
	select {
	case <-p.exited:
		how = describeExit(p.cmd.ProcessState)
	case <-time.After(grace):
		how = fmt.Sprintf("closed its standard output but had not exited %v later (killed)", grace)
	}
	s.stop()
	when := "while routefuzz was asking %q"
	if before {
		when = "before routefuzz asked %q"
	}
	kind, detail := ErrExited, fmt.Sprintf("%s "+when, how, req)
	if readErr != nil {
		kind, detail = ErrProtocol, fmt.Sprintf("wrote an unreadable answer to %q: %v (killed)", req, readErr)
	}
	e := &Error{Cmd: s.cmdline, Request: req, Kind: kind, Finding: finding(req, kind), Detail: detail, Stderr: p.stderr.lines(), Started: true}
	s.note(e.Detail)
	return e
}

// timeout kills a program that did not answer req in time. After a hang
// on an op, routes or addrs (a finding), the next Reset starts the program
// afresh; after a hang on the handshake or a reset, the Stack stays
// failed: trying again would cost another timeout per check.
func (s *Stack) timeout(req string) error {
	p := s.p
	s.stop()
	e := &Error{Cmd: s.cmdline, Request: req, Kind: ErrTimeout, Finding: finding(req, ErrTimeout), Started: true,
		Detail: fmt.Sprintf("did not answer %q within %v (killed; raise the per-request timeout if it is only slow)", req, s.o.Timeout),
		Stderr: p.stderr.lines()}
	s.note(e.Detail)
	if e.Finding == nil {
		s.failed = e
	}
	return e
}

func describeExit(ps *os.ProcessState) string {
	if ps == nil {
		return "exited"
	}
	if ws, ok := exitSignal(ps); ok {
		return "was killed by signal " + ws
	}
	return fmt.Sprintf("exited with status %d", ps.ExitCode())
}

// kill kills the program's process group and its descendants, without
// waiting. It is safe from any goroutine, at any time, more than once.
func (p *proc) kill() {
	killGroup(p.cmd)
	p.tree.kill()
}

func (s *Stack) trace(line string) {
	if s.o.Trace == nil {
		return
	}
	s.traceMu.Lock()
	defer s.traceMu.Unlock()
	io.WriteString(s.o.Trace, line+"\n")
}

func (s *Stack) note(msg string) {
	if s.o.Trace != nil {
		s.trace("# " + strings.ReplaceAll(msg, "\n", "\n# "))
	}
}

func bit(b bool) string {
	if b {
		return "1"
	}
	return "0"
}
