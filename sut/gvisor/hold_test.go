package gvisor

import (
	"net/netip"
	"testing"

	"github.com/routefuzz/routefuzz/model"
)

// The observation: the IPv4 source FindRoute picks depends on
// whether a route using an address was held while that address was
// deleted. Without a held route, deleting 10.0.0.1 takes it out of the
// NIC's primary list and re-adding appends it, after 10.0.0.2; with
// one, the deleted address stays in the list (PermanentExpired, kept
// alive by the route's reference) and re-adding promotes it in place,
// ahead of 10.0.0.2. 10.0.0.1 and 10.0.0.2 share 29 leading bits with
// 10.0.0.5, so the earlier primary wins the tie.
func TestHeldRouteKeepsPrimaryOrder(t *testing.T) {
	for _, tc := range []struct {
		name string
		hold bool
		want string
	}{
		{"without a held route", false, "10.0.0.2"},
		{"with a held route", true, "10.0.0.1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newStack(t, Raw, "a0")
			apply(t, s,
				"add a0 10.0.0.1/24",
				"add a0 10.0.0.2/24",
				"route add 10.0.0.0/24 dev a0")
			if tc.hold {
				h, err := s.Hold(netip.MustParseAddr("10.0.0.9"))
				if err != nil {
					t.Fatal(err)
				}
				if h.Src != netip.MustParseAddr("10.0.0.1") {
					t.Fatalf("held route's source is %v, want 10.0.0.1", h.Src)
				}
			}
			apply(t, s, "del a0 10.0.0.1/24", "add a0 10.0.0.1/24")
			got := lookup(t, s, "10.0.0.5")
			if want := "10.0.0.5 dev a0 src " + tc.want; got != want {
				t.Errorf("lookup: got %q, want %q", got, want)
			}
			// The address list is the same either way: only the order
			// of primaries, which no list shows, differs.
			if got := addrs(t, s); got != "a0 10.0.0.1/24, a0 10.0.0.2/24" {
				t.Errorf("addresses: %s", got)
			}
		})
	}
}

// Releasing the held route after the re-add changes nothing: the
// address was promoted in place and stays first.
func TestHeldRouteReleasedAfterReAdd(t *testing.T) {
	s := newStack(t, Raw, "a0")
	apply(t, s, "add a0 10.0.0.1/24", "add a0 10.0.0.2/24", "route add 10.0.0.0/24 dev a0")
	if _, err := s.Hold(netip.MustParseAddr("10.0.0.9")); err != nil {
		t.Fatal(err)
	}
	apply(t, s, "del a0 10.0.0.1/24", "add a0 10.0.0.1/24")
	s.ReleaseAll()
	if got, want := lookup(t, s, "10.0.0.5"), "10.0.0.5 dev a0 src 10.0.0.1"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

// While the route is held and the address deleted, the address is no
// source (PermanentExpired is not assigned) and is not listed.
func TestHeldRouteDeletedAddressUnused(t *testing.T) {
	s := newStack(t, Raw, "a0")
	apply(t, s, "add a0 10.0.0.1/24", "add a0 10.0.0.2/24", "route add 10.0.0.0/24 dev a0")
	if _, err := s.Hold(netip.MustParseAddr("10.0.0.9")); err != nil {
		t.Fatal(err)
	}
	apply(t, s, "del a0 10.0.0.1/24")
	if got, want := lookup(t, s, "10.0.0.5"), "10.0.0.5 dev a0 src 10.0.0.2"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if got := addrs(t, s); got != "a0 10.0.0.2/24" {
		t.Errorf("addresses: %s", got)
	}
	// A second delete is notfound, as for an address never added.
	if err := s.Apply(model.MustParseOp("del a0 10.0.0.1/24")); result(err) != model.NotFound {
		t.Errorf("second del: %v, want notfound", err)
	}
}

// Re-adding an address at another length while a route that uses it is
// held keeps the old length: addAndAcquireAddressLocked promotes the
// expired addressState it finds by address and never updates its
// AddressWithPrefix (addressable_endpoint_state.go). The add succeeds;
// the length asked for is not what the NIC has.
func TestHeldReAddKeepsLength(t *testing.T) {
	for _, tc := range []struct {
		name, dst, a, b string
	}{
		{"ipv4", "10.0.0.9", "10.0.0.1/24", "10.0.0.1/16"},
		{"ipv6", "2001:db8::9", "2001:db8::1/64", "2001:db8::1/56"},
	} {
		for _, hold := range []bool{false, true} {
			s := newStack(t, Sentry, "a0")
			apply(t, s, "add a0 "+tc.a)
			if hold {
				if _, err := s.Hold(netip.MustParseAddr(tc.dst)); err != nil {
					t.Fatal(err)
				}
			}
			apply(t, s, "del a0 "+tc.a, "add a0 "+tc.b)
			want := "a0 " + tc.b
			if hold {
				want = "a0 " + tc.a // the bug
			}
			if got := addrs(t, s); got != want {
				t.Errorf("%s, held %v: addresses %q, want %q", tc.name, hold, got, want)
			}
		}
	}
}
