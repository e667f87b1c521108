// Command fixedstack serves routefuzz's simulated correct stack (sut/fixed)
// over the external-process protocol, version 1 (PROTOCOL.md). It is the
// reference adapter: read it to see everything an adapter does, then point
// the same loop at your own stack.
//
//	go build -o /tmp/fixedstack ./examples/fixedstack
//	go run ./cmd/routefuzz check -sut exec -exec '/tmp/fixedstack -promote=0'
//
// With -legacy it serves the legacy stack (sut/legacy, KB287032's bug)
// instead, and with -routes=0 it declares no route table (routes=0): it
// is then checked on its results, addresses and lookups alone, as a stack
// whose tables look nothing like Linux's would be.
//
// Requests come one per line on standard input and every answer is one
// line, or a list of lines ending with ".", on standard output, flushed
// before the next request is read. Diagnostics go to standard error, which
// routefuzz shows when something goes wrong.
package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"log"
	"net/netip"
	"os"
	"strings"

	"github.com/routefuzz/routefuzz/model"
	"github.com/routefuzz/routefuzz/sut"
	"github.com/routefuzz/routefuzz/sut/fixed"
	"github.com/routefuzz/routefuzz/sut/legacy"
)

func main() {
	promote := flag.Int("promote", 1, "IPv4 promote_secondaries to declare and run with: 0 or 1")
	keep := flag.Int("keep_addr_on_down", 0, "IPv6 keep_addr_on_down to declare and run with: 0 or 1")
	kinds := flag.String("kinds", "connected,local,broadcast", "route kinds to declare and report")
	legacyStack := flag.Bool("legacy", false, "serve the legacy stack (KB287032's bug) instead of the fixed one")
	routes := flag.Bool("routes", true, "declare and answer the route table; -routes=0 declares routes=0 (checked on lookups alone)")
	glitch := flag.Int("glitch", 0, "for routefuzz's own tests: leave the first route out of the Nth routes answer that has one, a difference that does not reproduce (0: never)")
	flag.Parse()
	if *promote != 0 && *promote != 1 {
		log.Fatalf("fixedstack: -promote=%d: want 0 or 1", *promote)
	}
	if *keep != 0 && *keep != 1 {
		log.Fatalf("fixedstack: -keep_addr_on_down=%d: want 0 or 1", *keep)
	}
	report := map[model.RouteKind]bool{}
	for _, k := range strings.Split(*kinds, ",") {
		kind, err := model.ParseRouteKind(k)
		if err != nil {
			log.Fatalf("fixedstack: -kinds: %v", err)
		}
		report[kind] = true
	}
	var stack served = fixed.New()
	if *legacyStack {
		stack = legacy.New()
	}
	if !*routes {
		*kinds = ""
	}
	if err := serve(stack, *promote == 1, *keep == 1, *kinds, report, *glitch); err != nil {
		log.Fatalf("fixedstack: %v", err)
	}
}

// served is what the adapter serves: sut/fixed or sut/legacy.
type served interface {
	sut.Stack
	Lookup(netip.Addr) (model.LookupResult, error)
}

// serve answers requests until quit or the end of input. It declares the
// promotion and keep_addr_on_down settings it runs with and the route
// kinds it reports (none: routes=0, no route table).
func serve(stack served, promote, keep bool, kinds string, report map[model.RouteKind]bool, glitch int) error {
	answers := 0 // routes answers with a route so far
	in := bufio.NewScanner(os.Stdin)
	out := bufio.NewWriter(os.Stdout)
	table := "kinds=" + kinds
	if kinds == "" {
		table = "routes=0"
	}
	for in.Scan() {
		req := in.Text()
		verb, args, _ := strings.Cut(req, " ")
		switch verb {
		case "hello":
			// Answer with our version and what we support: both
			// families, our promotion and keep_addr_on_down settings,
			// the route kinds we report, every attribute (metrics=1
			// noprefixroute=1 lifetimes=1), the op kinds the fixed
			// stack takes (sut.Limits: all of routefuzz's, route add
			// and route del included, each by its token:
			// ops=add,del,...,route-add,route-del), and route lookups
			// (lookups=1).
			if args != "routefuzz 1" {
				return fmt.Errorf("harness speaks %q; this adapter speaks version 1", req)
			}
			fmt.Fprintf(out, "hello routefuzz 1 %s promote=%d keep_addr_on_down=%d families=4,6 %s ops=%s lookups=1\n", table, bit(promote), bit(keep), attrs(), ops(sut.LimitsOf(stack)))
		case "reset":
			cfg := model.Config{Adapters: strings.Fields(args), Promote: promote, KeepAddrOnDown: keep}
			if err := stack.Reset(cfg); err != nil {
				fmt.Fprintf(out, "err invalid %v\n", err)
				break
			}
			fmt.Fprintln(out, "ok")
		case "routes":
			t, _ := stack.Routes()
			if len(t) > 0 {
				if answers++; answers == glitch {
					t = t[1:]
				}
			}
			for _, r := range t {
				if report[r.Kind] {
					// e.g. "local 10.0.0.1/32 dev a0 src 10.0.0.1", or
					// "10.0.0.0/24 dev a0 src 10.0.0.1 linkdown" without carrier
					fmt.Fprintln(out, r)
				}
			}
			fmt.Fprintln(out, ".")
		case "lookup":
			// "lookup 10.0.0.2" → "10.0.0.2 dev a0 src 10.0.0.1", as
			// `ip route get` would say it.
			dst, err := netip.ParseAddr(args)
			if err != nil {
				fmt.Fprintf(out, "%s unreachable\n", args) // outside the protocol: the harness says so
				break
			}
			l, _ := stack.Lookup(dst)
			fmt.Fprintln(out, l)
		case "addrs":
			as, _ := stack.Addrs()
			for _, a := range as {
				fmt.Fprintln(out, a) // e.g. "a0 10.0.0.1/24"
			}
			fmt.Fprintln(out, ".")
		case "quit":
			return out.Flush()
		default:
			if !isOp(req) {
				fmt.Fprintln(out, "err unsupported")
				break
			}
			// An op: "add a0 10.0.0.1/24 metric 5 noprefixroute",
			// "change a0 10.0.0.1/24 valid_lft 600 preferred_lft 300",
			// "carrier a0 off", "route add default via 10.0.0.9 dev a0
			// src 10.0.0.1 metric 5", ... The answer is "ok" or "err"
			// and the model's result word: "err unreachable ...".
			op, err := model.ParseOp(req)
			if err != nil {
				fmt.Fprintf(out, "err invalid %v\n", err)
				break
			}
			fmt.Fprintln(out, result(stack.Apply(op)))
		}
		if err := out.Flush(); err != nil {
			return err
		}
	}
	return in.Err() // end of input: the harness is gone
}

// result returns the answer line for an op's error.
func result(err error) string {
	if err == nil {
		return "ok"
	}
	r, ok := model.ResultOf(err)
	if !ok {
		return "err unsupported " + err.Error()
	}
	msg := err.Error()
	var oe *model.OpError
	if errors.As(err, &oe) {
		msg = oe.Msg
	}
	return "err " + r.String() + " " + msg
}

// attrs returns every attribute capability, each declared taken:
// "metrics=1 noprefixroute=1 lifetimes=1".
func attrs() string {
	var cs []string
	for _, c := range model.Capabilities() {
		cs = append(cs, c+"=1")
	}
	return strings.Join(cs, " ")
}

// ops returns the op kinds a stack with limits l takes, as ops= lists
// them, by token: "add,del,down,...,route-add,route-del".
func ops(l sut.Limits) string {
	var ts []string
	for _, sp := range model.Alphabet {
		if l.TakesKind(sp.Kind) {
			ts = append(ts, sp.Token())
		}
	}
	return strings.Join(ts, ",")
}

// isOp reports whether req starts with the verb of an op kind, of one
// word ("add") or two ("route add").
func isOp(req string) bool {
	for _, sp := range model.Alphabet {
		if req == sp.Name || strings.HasPrefix(req, sp.Name+" ") {
			return true
		}
	}
	return false
}

func bit(b bool) int {
	if b {
		return 1
	}
	return 0
}
