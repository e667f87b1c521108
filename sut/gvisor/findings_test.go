package gvisor

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/routefuzz/routefuzz/check"
	"github.com/routefuzz/routefuzz/model"
	"github.com/routefuzz/routefuzz/sut"
)

// finding is one way gVisor's answers differ from the Linux model,
// pinned: the shortest op list, and lines that the model's answers and
// the bare stack's (no profile) must hold (answers: "OP: RESULT" for each
// op, then the lookups of the model's probes and the addresses after the
// last). A documented difference (why names it) is covered by the gVisor
// profile: the profiled stack agrees with the model. A bug (why empty) is
// not: the profiled stack diverges after the last op. docs/gvisor.md
// triages each.
type finding struct {
	name          string
	mode          Mode
	why           Difference // the documented difference; "" for a bug
	ops           []string
	model, gvisor []string // lines of the answers of each
}

var findings = []finding{
	// Bug in gVisor's sentry (RemoveInterfaceAddr): deleting one of two
	// addresses of a subnet removes the subnet route the other needs
	// (exclusion gvisor-sentry-subnet-route-loss).
	{"sentry-subnet-route-loss", Sentry, "",
		[]string{"add a0 10.0.0.1/24", "add a0 10.0.0.2/24", "del a0 10.0.0.1/24"},
		[]string{"10.0.0.1 dev a0 src 10.0.0.2"}, []string{"10.0.0.1 unreachable"}},
	// ... also when the del names the address at another length.
	{"sentry-subnet-route-loss-other-length", Sentry, "",
		[]string{"add a0 10.0.0.1/24", "add a0 10.0.0.2/8", "del a0 10.0.0.1/8"},
		[]string{"del a0 10.0.0.1/8: notfound", "10.255.255.255 broadcast dev a0 src 10.0.0.2"},
		[]string{"del a0 10.0.0.1/8: ok", "10.255.255.255 unreachable"}},
	// Raw netstack: an address brings no route.
	{"no-connected-route", Raw, NoConnectedRoutes,
		[]string{"add a0 10.0.0.1/24"},
		[]string{"10.0.0.2 dev a0 src 10.0.0.1"}, []string{"10.0.0.2 unreachable"}},
	// One length per address on a NIC.
	{"other-length", Sentry, OneLength,
		[]string{"add a0 10.0.0.1/24", "add a0 10.0.0.1/16"},
		[]string{"add a0 10.0.0.1/16: ok", "a0 10.0.0.1/16"}, []string{"add a0 10.0.0.1/16: exists"}},
	{"other-length-del", Sentry, OneLength,
		[]string{"add a0 10.0.0.1/24", "del a0 10.0.0.1/16"},
		[]string{"del a0 10.0.0.1/16: notfound", "a0 10.0.0.1/24"}, []string{"del a0 10.0.0.1/16: ok"}},
	// 0.0.0.0 is accepted as an address; the kernel ignores it
	// (exclusion gvisor-unspecified-address).
	{"unspecified-address", Raw, "",
		[]string{"add a0 0.0.0.0/24"},
		nil, []string{"a0 0.0.0.0/24"}},
	// An IPv6 address added to a disabled NIC is tentative: not local
	// (exclusion gvisor-ipv6-down-history) ...
	{"ipv6-down-history", Sentry, "",
		[]string{"down a0", "add a0 2001:db8::1/64"},
		[]string{"2001:db8::1 local src 2001:db8::1"}, []string{"2001:db8::1 unreachable"}},
	// ... while one added before the down stays local, as IPv4 does.
	{"down-local", Sentry, LocalSource,
		[]string{"add a0 2001:db8::1/64", "add a0 10.0.0.1/24", "down a0"},
		[]string{"2001:db8::1 unreachable"}, []string{"2001:db8::1 local src 2001:db8::1", "10.0.0.1 local src 10.0.0.1"}},
	// The local answer's source is the address looked up.
	{"local-source", Sentry, LocalSource,
		[]string{"add a0 10.0.0.1/24", "add a0 10.0.0.2/24"},
		[]string{"10.0.0.2 local src 10.0.0.1"}, []string{"10.0.0.2 local src 10.0.0.2"}},
	// AddRoute validates nothing and has no error to return ...
	{"route-unplugged-adapter", Sentry, RouteResults,
		[]string{"unplug a1", "route add 198.51.100.0/24 dev a1"},
		[]string{"route add 198.51.100.0/24 dev a1: invalid"}, []string{"route add 198.51.100.0/24 dev a1: ok"}},
	// ... and the route waits for its NIC.
	{"route-before-plug", Sentry, RouteResults,
		[]string{"unplug a1", "route add default via 10.0.0.9 dev a1", "plug a1", "add a1 10.0.0.1/24"},
		[]string{"192.0.2.1 unreachable"}, []string{"192.0.2.1 via 10.0.0.9 dev a1 src 10.0.0.1"}},
	{"route-duplicate", Sentry, RouteResults,
		[]string{"add a0 10.0.0.1/24", "route add 198.51.100.0/24 dev a0", "route add 198.51.100.0/24 dev a0"},
		[]string{"route add 198.51.100.0/24 dev a0: exists"}, []string{"route add 198.51.100.0/24 dev a0: ok"}},
	{"route-gateway-off-link", Sentry, RouteResults,
		[]string{"add a0 10.0.0.1/24", "route add 198.51.100.0/24 via 10.1.0.9 dev a0"},
		[]string{"via 10.1.0.9 dev a0: unreachable"}, []string{"via 10.1.0.9 dev a0: ok"}},
	// ... and a route the model refused answers later lookups.
	{"route-gateway-off-link-used", Sentry, RouteResults,
		[]string{"add a0 10.0.0.1/24", "route add default via 10.1.0.9 dev a0", "add a1 10.1.0.1/24"},
		[]string{"192.0.2.1 unreachable"}, []string{"192.0.2.1 via 10.1.0.9 dev a0 src 10.0.0.1"}},
	{"route-bad-source", Sentry, RouteResults,
		[]string{"add a0 10.0.0.1/24", "route add 198.51.100.0/24 dev a0 src 10.0.0.7"},
		[]string{"src 10.0.0.7: badsrc"}, []string{"src 10.0.0.7: ok"}},
	{"route-adapter-down", Sentry, RouteResults,
		[]string{"down a0", "route add 198.51.100.0/24 dev a0"},
		[]string{"dev a0: netdown"}, []string{"dev a0: ok"}},
	// Strong host: a route by a NIC with no address of the family is
	// skipped; the kernel takes a source from another adapter.
	{"route-adapter-without-address", Sentry, StrongHost,
		[]string{"add a1 10.0.0.1/24", "route add 198.51.100.0/24 dev a0"},
		[]string{"198.51.100.1 dev a0 src 10.0.0.1"}, []string{"198.51.100.1 unreachable"}},
	{"default-route-adapter-without-address", Sentry, StrongHost,
		[]string{"route add default dev a0"},
		[]string{"192.0.2.1 dev a0"}, []string{"192.0.2.1 unreachable"}},
	// A user route outlives down and up; the kernel drops it on down ...
	{"route-survives-down", Sentry, RoutesOutliveState,
		[]string{"add a0 10.0.0.1/24", "route add default via 10.0.0.9 dev a0", "down a0", "up a0"},
		[]string{"192.0.2.1 unreachable"}, []string{"192.0.2.1 via 10.0.0.9 dev a0 src 10.0.0.1"}},
	// ... and the last IPv4 address's deletion, which the kernel flushes
	// it with.
	{"route-survives-last-address", Sentry, RoutesOutliveState,
		[]string{"add a0 10.0.0.1/24", "route add default via 10.0.0.9 dev a0", "del a0 10.0.0.1/24", "add a0 10.0.0.1/24"},
		[]string{"192.0.2.1 unreachable"}, []string{"192.0.2.1 via 10.0.0.9 dev a0 src 10.0.0.1"}},
	// An address that is its subnet's broadcast address is not local
	// while its NIC is down.
	{"self-broadcast", Sentry, SelfBroadcast4,
		[]string{"add a0 10.0.0.255/24", "down a0"},
		[]string{"10.0.0.255 local src 10.0.0.255"}, []string{"10.0.0.255 unreachable"}},
	// A broadcast is the broadcast of the source's subnet.
	{"broadcast", Sentry, Broadcast4,
		[]string{"add a0 10.0.0.1/24", "add a0 10.0.0.2/16"},
		[]string{"10.0.255.255 broadcast dev a0 src 10.0.0.2"}, []string{"10.0.255.255 dev a0 src 10.0.0.1"}},
	// IPv6 rule 8 is not capped at the prefix length.
	{"source6", Sentry, Source6,
		[]string{"add a0 2001:db8:0:1::1/48", "add a0 2001:db8:0:1:8000::1/64"},
		[]string{"2001:db8:0:1::2 dev a0 src 2001:db8:0:1:8000::1"}, []string{"2001:db8:0:1::2 dev a0 src 2001:db8:0:1::1"}},
	// A source hint on another NIC is ignored (strong host).
	{"route-source-other-adapter", Sentry, Source4,
		[]string{"add a0 10.0.0.1/24", "add a1 10.0.1.1/24", "route add 198.51.100.0/24 via 10.0.0.9 dev a0 src 10.0.1.1"},
		[]string{"198.51.100.1 via 10.0.0.9 dev a0 src 10.0.1.1"}, []string{"198.51.100.1 via 10.0.0.9 dev a0 src 10.0.0.1"}},
	// Agreements: a gateway route, a source hint on the route's NIC,
	// route del.
	{"route-gateway", Sentry, "",
		[]string{"add a0 10.0.0.1/24", "route add default via 10.0.0.9 dev a0", "route add 198.51.100.0/24 dev a0 src 10.0.0.1"}, nil, nil},
	{"route-del", Sentry, "",
		[]string{"add a0 10.0.0.1/24", "route add 198.51.100.0/24 via 10.0.0.9 dev a0", "route del 198.51.100.0/24 via 10.0.0.9 dev a0"}, nil, nil},
	{"route-del-missing", Sentry, "",
		[]string{"route del 198.51.100.0/24 dev a0"}, nil, nil},
}

var findingsConfig = model.Config{Adapters: []string{"a0", "a1"}, Promote: true, KeepAddrOnDown: true}

// answers returns, one a line, each op's result on s, then s's answers to
// the lookups of the model's probes and its addresses after the last op.
func answers(t *testing.T, s sut.Stack, ops []model.Op) []string {
	t.Helper()
	m, _ := model.New(findingsConfig)
	if err := s.Reset(findingsConfig); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, op := range ops {
		r, ok := model.ResultOf(s.Apply(op))
		if !ok {
			t.Fatalf("%s: a harness error", op)
		}
		m.Apply(op)
		out = append(out, fmt.Sprintf("%s: %s", op, r))
	}
	for _, p := range m.Probes() {
		l, err := s.(sut.Looker).Lookup(p)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, l.String())
	}
	as, err := s.Addrs()
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range as {
		out = append(out, a.String())
	}
	return out
}

// modelStack is the model as a stack, for answers.
type modelStack struct{ *model.State }

func (m *modelStack) Reset(cfg model.Config) (err error) { m.State, err = model.New(cfg); return err }
func (m *modelStack) Addrs() ([]model.Addr, error)       { return m.State.Addrs(), nil }
func (m *modelStack) Routes() (model.Table, error)       { return model.Table{}, nil }
func (m *modelStack) Lookup(dst netip.Addr) (model.LookupResult, error) {
	return m.State.Lookup(dst), nil
}
func (m *modelStack) Close() error { return nil }

func TestFindings(t *testing.T) {
	shown := map[Difference]bool{}
	for _, f := range findings {
		t.Run(f.name, func(t *testing.T) {
			var ops []model.Op
			for _, o := range f.ops {
				ops = append(ops, model.MustParseOp(o))
			}
			bare := New(f.mode)
			defer bare.Close()
			for _, c := range []struct {
				who   string
				s     sut.Stack
				lines []string
			}{{"the model", &modelStack{}, f.model}, {"gVisor", bare, f.gvisor}} {
				got := answers(t, c.s, ops)
				for _, w := range c.lines {
					if !slices.ContainsFunc(got, func(l string) bool { return strings.Contains(l, w) }) {
						t.Errorf("%s's answers lack %q:\n%s", c.who, w, strings.Join(got, "\n"))
					}
				}
			}
			// The profile covers a documented difference, and not a
			// bug.
			p := NewProfiled(f.mode)
			p.Strict = f.why != ""
			defer p.Close()
			d, err := check.Replay("gvisor", p, findingsConfig, ops, nil)
			switch {
			case err != nil:
				t.Fatal(err)
			case f.why == "" && f.gvisor == nil && d != nil:
				t.Errorf("want agreement, got\n%s", d.Report())
			case f.why != "" && d != nil:
				t.Errorf("the profile does not cover %s:\n%s", f.why, d.Report())
			case f.why == "" && f.gvisor != nil && (d == nil || len(d.Ops) != len(ops)):
				t.Errorf("a bug, but the profiled stack does not diverge after the last op: %v", d)
			}
			shown[f.why] = true
		})
	}
	for _, d := range Differences {
		if !shown[d] {
			t.Logf("no finding shows %s", d)
		}
	}
}

func TestSourceHintOtherNIC(t *testing.T) {
	s := newStack(t, Sentry, "a0", "a1")
	apply(t, s, "add a0 10.0.0.1/24", "add a0 10.0.0.2/24", "add a1 10.0.1.1/24",
		"route add 198.51.100.0/24 via 10.0.0.9 dev a0 src 10.0.1.1")
	if got, want := lookup(t, s, "198.51.100.1"), "198.51.100.1 via 10.0.0.9 dev a0 src 10.0.0.1"; got != want {
		t.Errorf("hint on another NIC: got %q, want %q", got, want)
	}
	apply(t, s, "route add 198.51.100.0/25 via 10.0.0.9 dev a0 src 10.0.0.2")
	if got, want := lookup(t, s, "198.51.100.1"), "198.51.100.1 via 10.0.0.9 dev a0 src 10.0.0.2"; got != want {
		t.Errorf("hint on the NIC: got %q, want %q", got, want)
	}
}
