package gvisor

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/routefuzz/routefuzz/model"
	"github.com/routefuzz/routefuzz/props"
)

// The profile predicts every answer of the stack past the known bugs: a
// strict hunt (an answer the profile does not predict is an error) over
// both families and three adapters finds nothing, in each mode, and the
// profile has amended answers of each observable on the way.
func TestProfilePredictsGVisor(t *testing.T) {
	for _, m := range []Mode{Raw, Sentry, Connected} {
		t.Run(m.String(), func(t *testing.T) {
			s := NewProfiled(m)
			s.Strict = true
			defer s.Close()
			res, err := props.Hunt(s, props.Config{Name: "gvisor-" + m.String(), Adapters: 3, IPv4: true, IPv6: true,
				Promote: true, KeepAddrOnDown: true, Exclude: known(t, m)},
				props.Budget{Seed: 7, Checks: 200, Steps: 25})
			if err != nil {
				t.Fatal(err)
			}
			if res.Minimal != nil {
				t.Fatalf("%s\n%s", res.Summary("gvisor"), res.Minimal.Report())
			}
			for _, o := range []string{"results", "addresses", "lookups"} {
				if s.Amended[o] == 0 {
					t.Errorf("no %s amended in %d steps: %v", o, res.Steps, s.Amended)
				}
			}
		})
	}
}

// Each rule of the profile, on its own: what Ref answers after a few ops.
func TestRef(t *testing.T) {
	cfg := model.Config{Adapters: []string{"a0", "a1"}, Promote: true, KeepAddrOnDown: true}
	for _, tc := range []struct {
		name    string
		mode    Mode
		ops     []string
		results []model.Result
		dst     string
		want    string // the hops, or "none" for no address left
	}{
		{"raw: no route", Raw, []string{"add a0 10.0.0.1/24"}, nil, "10.0.0.2", "[unreachable]"},
		{"sentry: the subnet route", Sentry, []string{"add a0 10.0.0.1/24"}, nil, "10.0.0.2", "[dev a0 src 10.0.0.1]"},
		{"sentry: a route of the same destination and NIC stands for it", Sentry,
			[]string{"route add 10.0.0.0/24 via 10.0.0.9 dev a0", "add a0 10.0.0.1/24"}, nil, "10.0.0.2", "[via 10.0.0.9 dev a0 src 10.0.0.1]"},
		{"sentry: the route stays while the subnet is held", Sentry,
			[]string{"add a0 10.0.0.1/24", "add a0 10.0.0.2/24", "del a0 10.0.0.1/24"}, nil, "10.0.0.3", "[dev a0 src 10.0.0.2]"},
		{"one length", Sentry, []string{"add a0 10.0.0.1/24", "add a0 10.0.0.1/16", "del a0 10.0.0.1/8"},
			[]model.Result{model.OK, model.Exists, model.OK}, "", "none"},
		{"route results", Raw, []string{"unplug a1", "route add default via 10.9.9.9 dev a1", "route add default via 10.9.9.9 dev a1",
			"route del default dev a1", "route del default via 10.9.9.9 dev a1", "route del default via 10.9.9.9 dev a1", "route add default dev x9"},
			[]model.Result{model.OK, model.OK, model.OK, model.NotFound, model.OK, model.NotFound, model.Invalid}, "192.0.2.1", "[unreachable]"},
		{"a route waits for its NIC", Raw, []string{"unplug a1", "route add default via 10.0.0.9 dev a1", "plug a1", "add a1 10.0.0.1/24"},
			nil, "192.0.2.1", "[via 10.0.0.9 dev a1 src 10.0.0.1]"},
		{"routes outlive down", Sentry, []string{"add a0 10.0.0.1/24", "route add default via 10.0.0.9 dev a0", "down a0"},
			nil, "192.0.2.1", "[unreachable]"},
		{"... and come back on up", Sentry, []string{"add a0 10.0.0.1/24", "route add default via 10.0.0.9 dev a0", "down a0", "up a0"},
			nil, "192.0.2.1", "[via 10.0.0.9 dev a0 src 10.0.0.1]"},
		{"unplug removes the NIC's routes", Sentry, []string{"add a0 10.0.0.1/24", "route add default via 10.0.0.9 dev a0", "unplug a0", "plug a0", "add a0 10.0.0.1/24"},
			nil, "192.0.2.1", "[unreachable]"},
		{"longest prefix first, then insertion", Raw, []string{"add a0 10.0.0.1/24", "add a1 10.1.0.1/24",
			"route add default via 10.1.0.9 dev a1", "route add 192.0.2.0/24 via 10.0.0.9 dev a0", "route add 192.0.2.0/24 via 10.1.0.8 dev a1"},
			nil, "192.0.2.1", "[via 10.0.0.9 dev a0 src 10.0.0.1]"},
		{"strong host: the next route", Raw, []string{"add a1 10.1.0.1/24", "route add default dev a1", "route add 192.0.2.0/24 dev a0"},
			nil, "192.0.2.1", "[dev a1 src 10.1.0.1]"},
		{"local, down or not", Raw, []string{"add a0 2001:db8::1/64", "down a0"}, nil, "2001:db8::1", "[local src 2001:db8::1]"},
		{"self broadcast, down", Sentry, []string{"add a0 10.0.0.255/24", "down a0"}, nil, "10.0.0.255", "[unreachable]"},
		{"self broadcast, up: the route's source is itself", Sentry, []string{"add a0 10.0.0.255/24"}, nil, "10.0.0.255", "[local src 10.0.0.255]"},
		{"source4: longest match over 32 bits", Sentry, []string{"add a0 10.0.0.1/16", "add a0 10.0.0.6/16"}, nil, "10.0.0.5", "[dev a0 src 10.0.0.6]"},
		{"source4: the hint", Raw, []string{"add a0 10.0.0.1/24", "add a0 10.0.0.6/24", "route add 10.0.0.0/24 dev a0 src 10.0.0.1"},
			nil, "10.0.0.5", "[dev a0 src 10.0.0.1]"},
		{"broadcast4: the source's subnet", Sentry, []string{"add a0 10.0.0.1/24", "add a0 10.0.0.2/16"}, nil, "10.0.255.255", "[dev a0 src 10.0.0.1]"},
		{"source6: ties", Sentry, []string{"add a0 2001:db8:0:1::1/64", "add a0 2001:db8:0:1::2/64"}, nil, "2001:db8:0:1::8",
			"[dev a0 src 2001:db8:0:1::1 dev a0 src 2001:db8:0:1::2]"},
		{"source6: rule 8 uncapped", Sentry, []string{"add a0 2001:db8:0:1::1/48", "add a0 2001:db8:0:1:8000::1/64"}, nil, "2001:db8:0:1::2",
			"[dev a0 src 2001:db8:0:1::1]"},
		{"unspecified: ignored", Raw, []string{"add a0 0.0.0.0/24"}, []model.Result{model.OK}, "", "none"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := NewRef(tc.mode, cfg)
			for i, o := range tc.ops {
				got := r.Apply(model.MustParseOp(o))
				if want := model.OK; tc.results != nil {
					want = tc.results[i]
					if got != want {
						t.Errorf("%s: %s, want %s", o, got, want)
					}
				}
			}
			if tc.want == "none" {
				if got := r.Addrs(); len(got) != 0 {
					t.Errorf("addresses %v, want none", got)
				}
				return
			}
			var hs []string
			for _, h := range r.Lookup(netip.MustParseAddr(tc.dst)) {
				hs = append(hs, h.String())
			}
			if got := "[" + strings.Join(hs, " ") + "]"; got != tc.want {
				t.Errorf("lookup %s: %s, want %s", tc.dst, got, tc.want)
			}
		})
	}
}
