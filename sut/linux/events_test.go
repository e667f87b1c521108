package linux

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"testing"
	"time"

	"github.com/jsimonetti/rtnetlink/v2"
	"golang.org/x/sys/unix"

	"github.com/routefuzz/routefuzz/model"
)

// An IPv6 add returns only once its local route is in the table, even
// right after the same address was added and deleted, when the event
// socket still holds the RTM_DELROUTE of the deleted address's local
// route. Before Apply drained the socket and matched the message type,
// that stale deletion ended the wait, and the re-add returned before its
// route existed in about half of 2,000 tries.
func TestIPv6AddWaitsForItsOwnLocalRoute(t *testing.T) {
	s := open(t)
	if err := s.Reset(model.Config{Adapters: []string{"a0", "a1"}}); err != nil {
		t.Fatal(err)
	}
	addr := netip.MustParseAddr("2001:db8:0:1::")
	for i := range 500 {
		dev := fmt.Sprintf("a%d", i%2)
		add := model.Op{Kind: model.Add, Adapter: dev, Prefix: netip.PrefixFrom(addr, 128), Metric: 100}
		if err := s.Apply(add); err != nil {
			t.Fatalf("try %d: %s: %v", i, add, err)
		}
		if s.Lag() != 0 {
			t.Fatalf("try %d: %s: the stack says it is unsettled", i, add)
		}
		in, err := s.hasLocal6(addr, s.index[dev])
		if err != nil {
			t.Fatal(err)
		}
		if !in {
			t.Fatalf("try %d: %s returned before its local route was in", i, add)
		}
		del := model.Op{Kind: model.Del, Adapter: dev, Prefix: add.Prefix}
		if err := s.Apply(del); err != nil {
			t.Fatalf("try %d: %s: %v", i, del, err)
		}
	}
}

// The wait for an IPv6 local route ends only on that route's insertion:
// neither the RTM_DELROUTE of the same route, nor an RTM_NEWROUTE queued
// before the socket was drained, ends it.
func TestAwaitLocal6IgnoresStaleEvents(t *testing.T) {
	s := open(t)
	if err := s.Reset(model.Config{Adapters: []string{"a0"}}); err != nil {
		t.Fatal(err)
	}
	p := netip.MustParsePrefix("2001:db8::1/64")
	idx := s.index["a0"]
	short := func() time.Time { return time.Now().Add(50 * time.Millisecond) }

	// Apply consumes the add's notification; the delete queues the
	// RTM_DELROUTE of the local route.
	apply(t, s, "add a0 2001:db8::1/64", "del a0 2001:db8::1/64")
	if err := s.events.awaitLocal6(p.Addr(), idx, short()); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("after a delete, awaitLocal6 = %v, want a timeout: the RTM_DELROUTE ended the wait", err)
	}

	// An add and a delete behind Apply's back queue an RTM_NEWROUTE and
	// an RTM_DELROUTE; drain drops both.
	m := func() *rtnetlink.AddressMessage {
		return &rtnetlink.AddressMessage{Family: unix.AF_INET6, PrefixLength: 64, Index: idx,
			Attributes: &rtnetlink.AddressAttributes{Address: net.IP(p.Addr().AsSlice()), Flags: unix.IFA_F_NODAD}}
	}
	if err := s.c.Address.New(m()); err != nil {
		t.Fatal(err)
	}
	for in := false; !in; {
		var err error
		if in, err = s.hasLocal6(p.Addr(), idx); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.c.Address.Delete(m()); err != nil {
		t.Fatal(err)
	}
	if err := s.events.drain(); err != nil {
		t.Fatal(err)
	}
	if err := s.events.awaitLocal6(p.Addr(), idx, short()); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("after drain, awaitLocal6 = %v, want a timeout: a notification queued before drain ended the wait", err)
	}
}
