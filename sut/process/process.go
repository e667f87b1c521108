// Package process runs an implementation under test as a separate program,
// in any language, and talks to it over its standard input and output with
// routefuzz's external-process protocol, version 1 (PROTOCOL.md at the root
// of the repository). Every message is one line in the grammar the rest of
// routefuzz uses: requests are model.Op.String lines, answers are parsed with
// model.ParseRoute and model.ParseAddr.
//
// The program is started once, by Start, and reset before every check. When
// it misbehaves (does not start, answers outside the protocol or with
// another version, crashes, hangs), the Stack returns an *Error naming the
// request and showing the end of the program's standard error. An *Error
// wraps none of model's result sentinels, so the check engine reports it as
// a harness failure, never as a divergence.
package process

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/routefuzz/routefuzz/model"
	"github.com/routefuzz/routefuzz/sut"
)

// Version is the protocol version this package speaks.
const Version = 1

// DefaultTimeout bounds each request when Options.Timeout is zero.
const DefaultTimeout = 5 * time.Second

// stderrLines is how many of the program's last stderr lines an *Error
// shows.
const stderrLines = 20

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
	ErrClosed      = errors.New("stack closed")
)

// Error is a failure of the program or of the conversation with it.
type Error struct {
	Cmd     string   // the command line
	Request string   // the request being made; "" when there was none
	Kind    error    // one of the Err variables above
	Detail  string   // what happened, as a phrase whose subject is the program
	Stderr  []string // the last lines of the program's standard error
	Started bool     // whether the program ran at all (else Stderr means nothing)
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

// Unwrap returns e.Kind.
func (e *Error) Unwrap() error { return e.Kind }

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

	p      *proc // the running program; nil when it is not running
	failed error // after a timeout, every call returns this
	closed bool

	traceMu sync.Mutex
}

// proc is one run of the program.
type proc struct {
	cmd     *exec.Cmd
	stdin   *os.File
	lines   chan string   // its stdout, one line at a time; closed at EOF
	readErr error         // why lines was closed, if not EOF; set before
	exited  chan struct{} // closed when Wait returns
	stderr  *tail
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
	return l
}

// Reset starts the program again if it has exited since the last check,
// then sends "reset" with cfg's adapters. It returns an error wrapping
// sut.ErrUnsupported when cfg asks for a promotion setting other than the
// one the program declared.
func (s *Stack) Reset(cfg model.Config) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	if s.limits.IPv4 && cfg.Promote != s.promote {
		return fmt.Errorf("%w: program %q declared promote=%s", sut.ErrUnsupported, s.cmdline, bit(s.promote))
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
	if a[0] != "ok" {
		return s.offProtocol(req, a[0], `"ok"`)
	}
	return nil
}

// Apply sends op and returns nil for "ok", a *model.OpError for
// "err exists|notfound|invalid [text]", and an *Error for anything else.
func (s *Stack) Apply(op model.Op) error {
	req := op.String()
	if err := s.running(req); err != nil {
		return err
	}
	switch {
	case op.Kind != model.Add && op.Kind != model.Del, !op.Prefix.IsValid():
		return fmt.Errorf("op %s has no form in the protocol", req)
	case op.Prefix.Addr().Is4() && !s.limits.IPv4, op.Prefix.Addr().Is6() && !s.limits.IPv6:
		return s.fail(req, ErrUnsupported, "declared it does not support this address family, so routefuzz does not send %q", req)
	case op.Metric != 0 && !s.limits.Metrics:
		return s.fail(req, ErrUnsupported, "declared metrics=0, so routefuzz does not send %q", req)
	}
	a, err := s.ask(req, nil)
	if err != nil {
		return err
	}
	if a[0] == "ok" {
		return nil
	}
	verb, rest, _ := strings.Cut(a[0], " ")
	word, text, _ := strings.Cut(rest, " ")
	if verb == "err" {
		switch word {
		case "exists", "notfound", "invalid":
			r, _ := model.ParseResult(word)
			return &model.OpError{Op: op, Result: r, Msg: strings.TrimSpace(text)}
		}
	}
	return s.offProtocol(req, a[0], `"ok" or "err exists|notfound|invalid [TEXT]"`)
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
// to exit, then kills its process group. It is safe to call twice.
func (s *Stack) Close() error {
	if s.closed {
		return nil
	}
	s.closed = true
	if p := s.p; p != nil {
		s.p = nil
		s.trace("> quit")
		p.stdin.SetWriteDeadline(time.Now().Add(min(s.o.Timeout, time.Second)))
		io.WriteString(p.stdin, "quit\n")
		p.stdin.Close()
		select {
		case <-p.exited:
		case <-time.After(min(s.o.Timeout, time.Second)):
		}
		p.kill()
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
	if a[0] == "err" || strings.HasPrefix(a[0], "err ") {
		return s.offProtocol(req, a[0], `"hello routefuzz 1 [CAPABILITY...]"`)
	}
	f := strings.Fields(a[0])
	if len(f) < 3 || f[0] != "hello" || f[1] != "routefuzz" {
		return s.offProtocol(req, a[0], `"hello routefuzz 1 [CAPABILITY...]"`)
	}
	if f[2] != "1" {
		return s.fail(req, ErrVersion, "speaks protocol version %s; routefuzz speaks version %d (it answered %q to %q)", f[2], Version, a[0], req)
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
		return s.fail(req, ErrCapability, "answered %q to %q: %v", a[0], req, err)
	}
	s.caps, s.limits, s.promote, s.shook = caps, l, promote, true
	return nil
}

// parseCaps reads the capabilities of a hello answer.
func parseCaps(caps []string) (l sut.Limits, promote bool, err error) {
	l = sut.Limits{IPv4: true, IPv6: true, Promote: []bool{true}}
	promote = true
	seen := map[string]bool{}
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
			return fmt.Errorf("capability %s has the value %q; want %s", k, v, want)
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
		case "promote", "metrics":
			if v != "0" && v != "1" {
				return l, false, bad("0 or 1")
			}
			if k == "metrics" {
				l.Metrics = v == "1"
			} else {
				promote = v == "1"
				l.Promote = []bool{promote}
			}
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
		default:
			return l, false, fmt.Errorf("capability %q is unknown (want kinds, promote, families or metrics)", k)
		}
	}
	if !l.IPv4 {
		l.Promote = nil // promotion is IPv4's: any setting does
	}
	return l, promote, nil
}

// launch starts the program with its stdin and stdout on pipes.
func (s *Stack) launch() (*proc, error) {
	inR, inW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		inR.Close()
		inW.Close()
		return nil, err
	}
	p := &proc{
		stdin:  inW,
		lines:  make(chan string, 64),
		exited: make(chan struct{}),
		stderr: &tail{n: stderrLines, trace: s.trace},
	}
	p.cmd = exec.Command(s.args[0], s.args[1:]...)
	p.cmd.Dir = s.o.Dir
	p.cmd.Stdin, p.cmd.Stdout, p.cmd.Stderr = inR, outW, p.stderr
	p.cmd.WaitDelay = time.Second // a grandchild holding stderr open cannot stall Wait
	setGroup(p.cmd)
	err = p.cmd.Start()
	inR.Close()
	outW.Close()
	if err != nil {
		inW.Close()
		outR.Close()
		return nil, &Error{Cmd: s.cmdline, Kind: ErrStart, Detail: "did not start: " + err.Error()}
	}
	s.note(fmt.Sprintf("started %q, pid %d", s.cmdline, p.cmd.Process.Pid))
	live.add(p.cmd)
	go func() {
		sc := bufio.NewScanner(outR)
		sc.Buffer(make([]byte, 0, 4096), 1<<20)
		for sc.Scan() {
			p.lines <- strings.TrimRight(sc.Text(), " \t\r")
		}
		p.readErr = sc.Err()
		outR.Close()
		close(p.lines)
	}()
	go func() {
		p.cmd.Wait()
		live.remove(p.cmd)
		close(p.exited)
	}()
	return p, nil
}

// live holds the programs running now, for KillAll.
var live = &programs{m: map[*exec.Cmd]bool{}}

type programs struct {
	sync.Mutex
	m map[*exec.Cmd]bool
}

func (l *programs) add(c *exec.Cmd) {
	l.Lock()
	defer l.Unlock()
	l.m[c] = true
}

func (l *programs) remove(c *exec.Cmd) {
	l.Lock()
	defer l.Unlock()
	delete(l.m, c)
}

// KillAll kills the process group of every program this process started
// that is still running. It is safe to call from any goroutine, while
// stacks are in use, as a signal handler does before the process exits.
func KillAll() {
	live.Lock()
	defer live.Unlock()
	for c := range live.m {
		killGroup(c)
	}
}

// ask sends req and reads its answer: one line, or when each is not nil
// the lines up to a line holding ".", each handed to each as it arrives
// (so that a line outside the grammar is reported at once, not after a
// timeout) and none returned. A list answer that begins with "err" ends
// there. An answer "err unsupported" is an *Error. One timeout covers the
// whole exchange.
func (s *Stack) ask(req string, each func(string) error) ([]string, error) {
	list := each != nil
	p := s.p
	select {
	case l, ok := <-p.lines:
		if ok {
			s.trace("< " + l)
			return nil, s.fail(req, ErrProtocol, "wrote %q unasked, before the request %q", l, req)
		}
		return nil, s.gone(req, true)
	default:
	}
	timer := time.NewTimer(s.o.Timeout)
	defer timer.Stop()
	s.trace("> " + req)
	p.stdin.SetWriteDeadline(time.Now().Add(s.o.Timeout))
	if _, err := io.WriteString(p.stdin, req+"\n"); err != nil {
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return nil, s.timeout(req)
		}
		return nil, s.gone(req, false)
	}
	var ans []string
	for {
		select {
		case l, ok := <-p.lines:
			if !ok {
				return nil, s.gone(req, false)
			}
			s.trace("< " + l)
			if w, text, _ := strings.Cut(l, " "); l == "err unsupported" || w == "err" && strings.HasPrefix(text, "unsupported ") {
				return nil, s.fail(req, ErrUnsupported, "does not support %q: it answered %q", req, l)
			}
			if !list {
				return []string{l}, nil
			}
			if l == "." {
				return ans, nil
			}
			if len(ans) == 0 && strings.HasPrefix(l, "err") {
				return nil, s.offProtocol(req, l, `lines ending with "."`)
			}
			if err := each(l); err != nil {
				return nil, s.fail(req, ErrProtocol, "answered %q with a bad line: %v", req, err)
			}
			ans = append(ans, l)
		case <-timer.C:
			return nil, s.timeout(req)
		}
	}
}

// offProtocol reports an answer that is not what req calls for.
func (s *Stack) offProtocol(req, got, want string) error {
	return s.fail(req, ErrProtocol, "answered %q with %q, which is outside the protocol (want %s)", req, got, want)
}

// fail returns an *Error about the running program and req. Unless the
// program merely declined the request (ErrUnsupported), the conversation
// can no longer be trusted: fail stops the program, and the next Reset
// starts it again.
func (s *Stack) fail(req string, kind error, format string, args ...any) error {
	e := &Error{Cmd: s.cmdline, Request: req, Kind: kind, Detail: fmt.Sprintf(format, args...), Started: true}
	if p := s.p; p != nil {
		if kind != ErrUnsupported {
			s.stop()
		}
		e.Stderr = p.stderr.lines()
	}
	s.note(e.Detail)
	return e
}

// stop kills the running program and waits briefly for it to exit, so that
// its standard error has been read to the end.
func (s *Stack) stop() {
	p := s.p
	s.p = nil
	p.kill()
	select {
	case <-p.exited:
	case <-time.After(2 * time.Second):
	}
}

// gone reports a program that closed its output while req was pending. It
// waits briefly for the program to exit, to say how, and kills what is
// left of it. The next Reset starts it again.
func (s *Stack) gone(req string, before bool) error {
	p := s.p
	grace := min(s.o.Timeout, 2*time.Second)
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
	if p.readErr != nil {
		kind, detail = ErrProtocol, fmt.Sprintf("wrote an unreadable answer to %q: %v (killed)", req, p.readErr)
	}
	e := &Error{Cmd: s.cmdline, Request: req, Kind: kind, Detail: detail, Stderr: p.stderr.lines(), Started: true}
	s.note(e.Detail)
	return e
}

// timeout kills a program that did not answer req in time. The Stack
// stays failed: trying again would cost another timeout per check.
func (s *Stack) timeout(req string) error {
	p := s.p
	s.stop()
	e := &Error{Cmd: s.cmdline, Request: req, Kind: ErrTimeout, Started: true,
		Detail: fmt.Sprintf("did not answer %q within %v (killed; raise the per-request timeout if it is only slow)", req, s.o.Timeout),
		Stderr: p.stderr.lines()}
	s.note(e.Detail)
	s.failed = e
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

func (p *proc) kill() {
	killGroup(p.cmd)
	p.stdin.Close()
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

// tail keeps the last n lines written to it.
type tail struct {
	n     int
	trace func(string)
	mu    sync.Mutex
	ls    []string
	part  []byte
}

func (t *tail) Write(b []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := len(b)
	for len(b) > 0 {
		i := strings.IndexByte(string(b), '\n')
		if i < 0 {
			t.part = append(t.part, b...)
			if len(t.part) > 4096 { // a line that long is cut
				t.push(string(t.part))
				t.part = t.part[:0]
			}
			break
		}
		t.part = append(t.part, b[:i]...)
		t.push(string(t.part))
		t.part = t.part[:0]
		b = b[i+1:]
	}
	return n, nil
}

func (t *tail) push(l string) {
	l = strings.TrimRight(l, "\r")
	if t.trace != nil {
		t.trace("! " + l)
	}
	if len(l) > 500 {
		l = l[:500] + "…"
	}
	t.ls = append(t.ls, l)
	if len(t.ls) > t.n {
		t.ls = t.ls[len(t.ls)-t.n:]
	}
}

// lines returns the last lines, the unfinished one included.
func (t *tail) lines() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	ls := slices.Clone(t.ls)
	if len(t.part) > 0 {
		ls = append(ls, string(t.part))
	}
	return ls[max(0, len(ls)-t.n):]
}
