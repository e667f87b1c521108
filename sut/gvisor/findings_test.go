package gvisor

import (
	"strings"
	"testing"

	"github.com/routefuzz/routefuzz/check"
	"github.com/routefuzz/routefuzz/model"
)

// finding is one divergence of gVisor from the Linux model, as check
// reports it, pinned: the shortest op list, and lines the report must
// hold (the model's and gVisor's answers). docs/gvisor.md triages each.
type finding struct {
	name string
	mode Mode
	ops  []string
	want []string // lines of the report; none: gVisor agrees
}

var findings = []finding{
	// Bug in gVisor's sentry (RemoveInterfaceAddr): deleting one of two
	// addresses of a subnet removes the subnet route the other needs.
	{"sentry-subnet-route-loss", Sentry,
		[]string{"add a0 10.0.0.1/24", "add a0 10.0.0.2/24", "del a0 10.0.0.1/24"},
		[]string{"! 10.0.0.1 dev a0 src 10.0.0.2 ", "| 10.0.0.1 unreachable"}},
	// Raw netstack: an address brings no route.
	{"no-connected-route", Raw,
		[]string{"add a0 10.0.0.1/24"},
		[]string{"! 10.0.0.2 dev a0 src 10.0.0.1 ", "| 10.0.0.2 unreachable"}},
	// One length per address on a NIC.
	{"other-length", Sentry,
		[]string{"add a0 10.0.0.1/24", "add a0 10.0.0.1/16"},
		[]string{"model ok, gvisor exists"}},
	// 0.0.0.0 is accepted as an address (the kernel ignores it).
	{"unspecified-address", Raw,
		[]string{"add a0 0.0.0.0/24"},
		[]string{"+ a0 0.0.0.0/24"}},
	// AddRoute validates nothing and has no error to return.
	{"route-unplugged-adapter", Sentry,
		[]string{"unplug a1", "route add 198.51.100.0/24 dev a1"},
		[]string{"model invalid, gvisor ok"}},
	{"route-duplicate", Sentry,
		[]string{"add a0 10.0.0.1/24", "route add 198.51.100.0/24 dev a0", "route add 198.51.100.0/24 dev a0"},
		[]string{"model exists, gvisor ok"}},
	{"route-gateway-off-link", Sentry,
		[]string{"add a0 10.0.0.1/24", "route add 198.51.100.0/24 via 10.1.0.9 dev a0"},
		[]string{"model unreachable, gvisor ok"}},
	{"route-bad-source", Sentry,
		[]string{"add a0 10.0.0.1/24", "route add 198.51.100.0/24 dev a0 src 10.0.0.7"},
		[]string{"model badsrc, gvisor ok"}},
	{"route-adapter-down", Sentry,
		[]string{"down a0", "route add 198.51.100.0/24 dev a0"},
		[]string{"model netdown, gvisor ok"}},
	// Strong host: a route by a NIC with no address of the family is
	// skipped; the kernel takes a source from another adapter.
	{"route-adapter-without-address", Sentry,
		[]string{"add a1 10.0.0.1/24", "route add 198.51.100.0/24 dev a0"},
		[]string{"! 198.51.100.1 dev a0 src 10.0.0.1", "| 198.51.100.1 unreachable"}},
	// A user route outlives down and up; the kernel drops it on down.
	{"route-survives-down", Sentry,
		[]string{"add a0 10.0.0.1/24", "route add default via 10.0.0.9 dev a0", "down a0", "up a0"},
		[]string{"! 192.0.2.1 unreachable", "| 192.0.2.1 via 10.0.0.9 dev a0 src 10.0.0.1"}},
	// ... and the last IPv4 address's deletion, which the kernel flushes
	// it with.
	{"route-survives-last-address", Sentry,
		[]string{"add a0 10.0.0.1/24", "route add default via 10.0.0.9 dev a0", "del a0 10.0.0.1/24", "add a0 10.0.0.1/24"},
		[]string{"! 192.0.2.1 unreachable", "| 192.0.2.1 via 10.0.0.9 dev a0 src 10.0.0.1"}},
	// A source hint on another NIC is ignored (strong host): the profile
	// (Source4) accepts the NIC's own address, so this agrees;
	// TestSourceHintOtherNIC shows the raw answer.
	{"route-source-other-adapter", Sentry,
		[]string{"add a0 10.0.0.1/24", "add a1 10.0.1.1/24", "route add 198.51.100.0/24 via 10.0.0.9 dev a0 src 10.0.1.1"}, nil},
	// Agreements: a gateway route, a source hint on the route's NIC,
	// route del.
	{"route-gateway", Sentry,
		[]string{"add a0 10.0.0.1/24", "route add default via 10.0.0.9 dev a0", "route add 198.51.100.0/24 dev a0 src 10.0.0.1"}, nil},
	{"route-del", Sentry,
		[]string{"add a0 10.0.0.1/24", "route add 198.51.100.0/24 via 10.0.0.9 dev a0", "route del 198.51.100.0/24 via 10.0.0.9 dev a0"}, nil},
	{"route-del-missing", Sentry,
		[]string{"route del 198.51.100.0/24 dev a0"}, nil},
}

func TestFindings(t *testing.T) {
	cfg := model.Config{Adapters: []string{"a0", "a1"}, Promote: true, KeepAddrOnDown: true}
	for _, f := range findings {
		t.Run(f.name, func(t *testing.T) {
			s := NewProfiled(f.mode)
			defer s.Close()
			var ops []model.Op
			for _, o := range f.ops {
				ops = append(ops, model.MustParseOp(o))
			}
			d, err := check.Replay("gvisor", s, cfg, ops, nil)
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case d == nil && f.want == nil:
				return
			case d == nil:
				t.Fatalf("gVisor agrees with the model; want a divergence with %q", f.want)
			case f.want == nil:
				t.Fatalf("want agreement, got\n%s", d.Report())
			case len(d.Ops) != len(ops):
				t.Fatalf("diverged after op %d of %d:\n%s", len(d.Ops), len(ops), d.Report())
			}
			rep := d.Report()
			for _, w := range f.want {
				if !strings.Contains(rep, w) {
					t.Errorf("report lacks %q:\n%s", w, rep)
				}
			}
		})
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
