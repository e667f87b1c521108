package process

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/routefuzz/routefuzz/model"
	"github.com/routefuzz/routefuzz/sut/fixed"
)

// The test binary doubles as the external program: run with helperArg as
// its first argument, it serves the protocol around the fixed stack, and
// misbehaves as its flags say.
const helperArg = "routefuzz-test-helper"

// Run with signalArg and a file name, the test binary starts the helper,
// whose grandchild escapes with setsid, and sends itself SIGTERM.
const signalArg = "routefuzz-test-signal"

func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == helperArg {
		helper(os.Args[2:])
		os.Exit(0)
	}
	if len(os.Args) > 2 && os.Args[1] == signalArg {
		signalHelper(os.Args[2])
		os.Exit(0)
	}
	// A race-enabled helper would sleep a second before it exits.
	if os.Getenv("GORACE") == "" {
		os.Setenv("GORACE", "atexit_sleep_ms=0")
	}
	os.Exit(m.Run())
}

// signalHelper starts a program whose grandchild calls setsid, then
// receives SIGTERM: internal/interrupt must kill both before the process
// exits with status 143.
func signalHelper(pids string) {
	s, err := Start(helperCmd("-on", "add", "-do", "setsid", "-pids", pids), Options{Timeout: time.Minute})
	if err == nil {
		err = s.Reset(cfg)
	}
	if err == nil {
		err = s.Apply(model.MustParseOp("add a0 10.0.0.1/24"))
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(5)
	}
	syscall.Kill(os.Getpid(), syscall.SIGTERM)
	time.Sleep(time.Minute)
	fmt.Fprintln(os.Stderr, "SIGTERM did not end the process")
	os.Exit(6)
}

// helperCmd returns the command line that runs the helper with args.
func helperCmd(args ...string) string {
	w := []string{Quote(os.Args[0]), helperArg}
	for _, a := range args {
		w = append(w, Quote(a))
	}
	return strings.Join(w, " ")
}

const goodHello = "hello routefuzz 1 kinds=connected,local,broadcast promote=1 families=4,6 metrics=1"

func helper(args []string) {
	fs := flag.NewFlagSet(helperArg, flag.ExitOnError)
	hello := fs.String("hello", goodHello, "answer to hello")
	lookupWrong := fs.Bool("lookupwrong", false, "answer a local lookup with the destination as src")
	useModel := fs.Bool("model", false, "serve the reference model instead of the fixed stack (every op kind of the alphabet, routes included)")
	on := fs.String("on", "", "misbehave at the first request starting with this")
	do := fs.String("do", "", "how: crash, sigkill, hang, spawnhang, exitheld, setsid, setsidcrash, garbage, linkdown, badroute, unsupported, extra, close, endless, longline, escape, flood, badresult")
	pids := fs.String("pids", "", "setsid, setsidcrash: write the program's pid and its grandchild's to this file")
	clearenv := fs.Bool("clearenv", false, "setsid, setsidcrash: start the grandchild with an empty environment")
	dup := fs.Bool("dup", false, "list a connected route once per address needing it, as a stack that does not reference-count it would")
	starts := fs.String("starts", "", "append a line to this file at each start")
	fs.Parse(args)
	if *starts != "" {
		f, err := os.OpenFile(*starts, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
		if err != nil {
			fmt.Fprintln(os.Stderr, "helper:", err)
			os.Exit(4)
		}
		fmt.Fprintln(f, "start")
		f.Close()
	}

	in := bufio.NewScanner(os.Stdin)
	out := bufio.NewWriter(os.Stdout)
	var stack helperStack = fixed.New()
	if *useModel {
		stack = &modelStack{}
	}
	for in.Scan() {
		req := in.Text()
		if *on != "" && strings.HasPrefix(req, *on) {
			*on = "" // once
			switch *do {
			case "crash":
				for i := 1; i <= 25; i++ {
					fmt.Fprintf(os.Stderr, "helper: stderr line %d\n", i)
				}
				fmt.Fprintf(os.Stderr, "panic: cannot handle %q", req) // no newline
				os.Exit(3)
			case "sigkill":
				syscall.Kill(os.Getpid(), syscall.SIGKILL)
			case "hang":
				fmt.Fprintln(os.Stderr, "helper: thinking very hard about", req)
				time.Sleep(time.Hour)
			case "spawnhang":
				// A grandchild that holds stdout open and outlives us.
				c := exec.Command("sleep", "3600")
				c.Stdout = os.Stdout
				c.Start()
				time.Sleep(time.Hour)
			case "exitheld":
				// Exit while a grandchild holds stdout and stderr open.
				c := exec.Command("sleep", "3600")
				c.Stdout, c.Stderr = os.Stdout, os.Stderr
				if err := c.Start(); err != nil {
					fmt.Fprintln(os.Stderr, "helper:", err)
				}
				fmt.Fprintln(os.Stderr, "helper: exiting, my child keeps my output")
				os.Exit(7)
			case "setsid", "setsidcrash":
				// A grandchild in a session of its own, out of the
				// program's process group.
				c := exec.Command("sleep", "3600")
				c.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
				if *clearenv {
					c.Env = []string{}
				}
				if err := c.Start(); err != nil {
					fmt.Fprintln(os.Stderr, "helper:", err)
					os.Exit(4)
				}
				if err := os.WriteFile(*pids, fmt.Appendf(nil, "%d %d\n", os.Getpid(), c.Process.Pid), 0o644); err != nil {
					fmt.Fprintln(os.Stderr, "helper:", err)
					os.Exit(4)
				}
				if *do == "setsidcrash" {
					os.Exit(3)
				}
			case "endless":
				// Valid route lines, and never the final ".".
				for i := 0; ; i++ {
					fmt.Fprintf(out, "10.%d.%d.0/24 dev a0 src 10.%d.%d.1\n", i>>8&255, i&255, i>>8&255, i&255)
				}
			case "longline":
				fmt.Fprintln(out, strings.Repeat("x", 2<<20))
				out.Flush()
				continue
			case "escape":
				// Text that must not reach a terminal raw.
				fmt.Fprintln(os.Stderr, "helper: \x1b[31mred\x1b[0m and \xff\xfe")
				fmt.Fprintln(out, "\x1b]0;owned\x07")
				out.Flush()
				continue
			case "flood":
				// 1 MiB of 2-byte lines on stderr, then the answer.
				os.Stderr.Write(bytes.Repeat([]byte("x\n"), 1<<19))
			case "garbage":
				fmt.Fprintln(out, "bonjour")
				out.Flush()
				continue
			case "linkdown":
				// Routes without carrier, as a kernel lists them.
				fmt.Fprintln(out, "10.0.0.0/24 dev a0 src 10.0.0.1 linkdown")
				fmt.Fprintln(out, "broadcast 10.0.0.255/32  dev a0 src 10.0.0.1\tlinkdown")
				fmt.Fprintln(out, "2001:db8::/64 dev a0 linkdown metric 256")
				fmt.Fprintln(out, "local 10.0.0.1/32 dev a0 src 10.0.0.1")
				fmt.Fprintln(out, ".")
				out.Flush()
				continue
			case "badroute":
				fmt.Fprintln(out, "10.0.0.1/24 dev a0 src 10.0.0.1") // host bits set
				fmt.Fprintln(out, ".")
				out.Flush()
				continue
			case "unsupported":
				fmt.Fprintln(out, "err unsupported not today")
				out.Flush()
				continue
			case "badresult":
				// A result word the model does not know.
				fmt.Fprintln(out, "err nogateway no route to the gateway")
				out.Flush()
				continue
			case "extra":
				fmt.Fprintln(out, "debug: something") // before the real answer
			case "close":
				os.Stdout.Close()
				time.Sleep(time.Hour)
			}
		}
		verb, rest, _ := strings.Cut(req, " ")
		switch verb {
		case "hello":
			fmt.Fprintln(out, *hello)
		case "reset":
			stack.Reset(model.Config{Adapters: strings.Fields(rest), Promote: true})
			fmt.Fprintln(out, "ok")
		case "routes":
			t, _ := stack.Routes()
			if *dup {
				as, _ := stack.Addrs()
				t = duplicated(t, as)
			}
			fmt.Fprint(out, t.String(), ".\n")
		case "lookup":
			dst, err := netip.ParseAddr(rest)
			if err != nil {
				fmt.Fprintln(out, "bad destination")
				break
			}
			l, _ := stack.Lookup(dst)
			if *lookupWrong && l.Kind == model.ToLocal {
				l.Src = dst // IPv4: the group's primary is right
			}
			fmt.Fprintln(out, l)
		case "addrs":
			as, _ := stack.Addrs()
			for _, a := range as {
				fmt.Fprintln(out, a)
			}
			fmt.Fprintln(out, ".")
		case "quit":
			out.Flush()
			return
		default:
			if !isOp(req) {
				fmt.Fprintln(out, "err unsupported")
				break
			}
			// Every op of the alphabet goes to the fixed stack, which
			// answers "err invalid" to a kind it does not implement.
			op, err := model.ParseOp(req)
			if err == nil {
				err = stack.Apply(op)
			}
			var oe *model.OpError
			switch {
			case err == nil:
				fmt.Fprintln(out, "ok")
			case errors.As(err, &oe):
				fmt.Fprintf(out, "err %s %s\n", oe.Result, oe.Msg)
			default:
				fmt.Fprintf(out, "err invalid %v\n", err)
			}
		}
		out.Flush()
	}
}

// duplicated returns t with each connected route repeated once per address
// on its adapter in its prefix: the table of a stack that adds the prefix
// route for every address instead of reference-counting one.
func duplicated(t model.Table, as []model.Addr) model.Table {
	var out model.Table
	for _, r := range t {
		n := 1
		if r.Kind == model.Connected {
			n = 0
			for _, a := range as {
				if a.Adapter == r.Dev && a.Prefix.Masked() == r.Dst {
					n++
				}
			}
		}
		for range max(n, 1) {
			out = append(out, r)
		}
	}
	return out
}

// helperStack is what the helper serves: the fixed stack, or the model.
type helperStack interface {
	Reset(model.Config) error
	Apply(model.Op) error
	Routes() (model.Table, error)
	Addrs() ([]model.Addr, error)
	Lookup(netip.Addr) (model.LookupResult, error)
}

// modelStack serves the reference model as a stack: it takes every op
// kind of the alphabet, the route kinds included, and answers each lookup
// with the model's first answer.
type modelStack struct{ st *model.State }

func (m *modelStack) Reset(cfg model.Config) error {
	st, err := model.New(cfg)
	if err == nil {
		m.st = st
	}
	return err
}

func (m *modelStack) Apply(op model.Op) error { return m.st.Apply(op) }

func (m *modelStack) Routes() (model.Table, error) { return m.st.Routes(), nil }

func (m *modelStack) Addrs() ([]model.Addr, error) { return m.st.Addrs(), nil }

func (m *modelStack) Lookup(dst netip.Addr) (model.LookupResult, error) {
	return model.NewLookupResult(dst, m.st.Lookup(dst).Hop), nil
}

// isOp reports whether req starts with the verb of an op kind of the
// alphabet, of one word ("add") or two ("route add").
func isOp(req string) bool {
	for _, sp := range model.Alphabet {
		if req == sp.Name || strings.HasPrefix(req, sp.Name+" ") {
			return true
		}
	}
	return false
}
