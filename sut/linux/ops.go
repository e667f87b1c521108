package linux

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"time"

	"github.com/jsimonetti/rtnetlink/v2"
	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"

	"github.com/routefuzz/routefuzz/model"
)

// infinity is the kernel's INFINITY_LIFE_TIME: a permanent address.
const infinity = 0xffffffff

// addrRequest encodes an RTM_NEWADDR or RTM_DELADDR body for op on
// ifindex idx: the rtnetlink library neither sends IFA_CACHEINFO nor a
// zero IFA_RT_PRIORITY, so the harness encodes the request itself.
//
// Attributes (for add and change): IFA_F_NODAD on IPv6, IFA_F_NOPREFIXROUTE
// when op has it, IFA_RT_PRIORITY when the metric is not zero or zero0 is
// set, and IFA_CACHEINFO when op has lifetimes (without it the kernel
// makes the address permanent: INFINITY_LIFE_TIME for both).
func addrRequest(op model.Op, idx uint32, attrs, zero0 bool) ([]byte, error) {
	p := op.Prefix
	v4 := p.Addr().Is4()
	hdr := make([]byte, unix.SizeofIfAddrmsg)
	hdr[0] = unix.AF_INET6
	if v4 {
		hdr[0] = unix.AF_INET
	}
	hdr[1] = uint8(p.Bits())
	binary.NativeEndian.PutUint32(hdr[4:8], idx)
	ae := netlink.NewAttributeEncoder()
	ae.Bytes(unix.IFA_ADDRESS, p.Addr().AsSlice())
	if v4 {
		ae.Bytes(unix.IFA_LOCAL, p.Addr().AsSlice())
	}
	if attrs {
		var flags uint32
		if !v4 {
			flags |= unix.IFA_F_NODAD
		}
		if op.NoPrefixRoute {
			flags |= unix.IFA_F_NOPREFIXROUTE
		}
		ae.Uint32(unix.IFA_FLAGS, flags)
		if op.Metric != 0 || zero0 {
			ae.Uint32(unix.IFA_RT_PRIORITY, op.Metric)
		}
		if op.ValidLft != 0 {
			ci := make([]byte, 16) // struct ifa_cacheinfo
			binary.NativeEndian.PutUint32(ci[0:4], op.PreferredLft)
			binary.NativeEndian.PutUint32(ci[4:8], op.ValidLft)
			ae.Bytes(unix.IFA_CACHEINFO, ci)
		}
	}
	b, err := ae.Encode()
	if err != nil {
		return nil, err
	}
	return append(hdr, b...), nil
}

// execAddr sends one address request on the raw socket and waits for its
// acknowledgement.
func (s *Stack) execAddr(typ netlink.HeaderType, flags netlink.HeaderFlags, body []byte) error {
	_, err := s.raw.Execute(netlink.Message{
		Header: netlink.Header{Type: typ, Flags: netlink.Request | netlink.Acknowledge | flags},
		Data:   body,
	})
	return err
}

// add sends RTM_NEWADDR with NLM_F_CREATE|NLM_F_EXCL, as `ip addr add`.
func (s *Stack) add(op model.Op, idx uint32) error {
	body, err := addrRequest(op, idx, true, false)
	if err != nil {
		return fmt.Errorf("linux: %s: %w", op, err)
	}
	v6 := !op.Prefix.Addr().Is4()
	// Drop notifications of earlier ops first, so that only this add's
	// can end the wait.
	drained := v6 && s.events.drain() == nil
	if err := s.execAddr(unix.RTM_NEWADDR, netlink.Create|netlink.Excl, body); err != nil {
		return opError(op, err)
	}
	if v6 {
		s.settleLocal6(op.Prefix.Addr(), idx, drained)
	}
	return nil
}

// change replaces an address's attributes with RTM_NEWADDR and
// NLM_F_REPLACE only, as `ip addr change`. The kernel would create a
// missing address, and would change an IPv6 address given at another
// length, so change first looks for the exact address and length on the
// adapter and answers notfound itself (the kernel's EADDRNOTAVAIL of a
// delete) when it is not there. For an unplugged adapter it asks the
// kernel for the device (RTM_GETLINK of its old ifindex), which says
// ENODEV, and sends nothing.
//
// The metric is always sent for IPv4 (zero included: the kernel sets it
// whatever it is), and only when not zero for IPv6 (the kernel keeps the
// old one when the request has none or zero). The flags are sent whole,
// IPv6 replacing them wholesale, so IFA_F_NODAD goes again on IPv6.
// Without lifetimes the address becomes permanent again.
func (s *Stack) change(op model.Op, idx uint32) error {
	if _, plugged := s.names[idx]; !plugged {
		// Ask the kernel for the device first: a change sent to it would
		// be taken as an add, and it accepts adding 0.0.0.0 (and keeps
		// nothing) before it looks for the device.
		if _, err := s.getLink(idx); err != nil {
			return opError(op, err)
		}
		return fmt.Errorf("linux: %s: unplugged adapter %s still has ifindex %d", op, op.Adapter, idx)
	}
	{
		has, err := s.hasAddr(op.Prefix, idx)
		if err != nil {
			return fmt.Errorf("linux: %s: %w", op, err)
		}
		if !has {
			return &model.OpError{Op: op, Result: model.NotFound,
				Msg: fmt.Sprintf("%s is not on %s (checked by the harness: the kernel would create it)", op.Prefix, op.Adapter)}
		}
	}
	body, err := addrRequest(op, idx, true, op.Prefix.Addr().Is4())
	if err != nil {
		return fmt.Errorf("linux: %s: %w", op, err)
	}
	if err := s.execAddr(unix.RTM_NEWADDR, netlink.Replace, body); err != nil {
		return opError(op, err)
	}
	return nil
}

// hasAddr reports whether the exact address and length p is on ifindex idx.
func (s *Stack) hasAddr(p netip.Prefix, idx uint32) (bool, error) {
	msgs, err := s.c.Address.List()
	if err != nil {
		return false, fmt.Errorf("listing addresses: %w", err)
	}
	for _, m := range msgs {
		if m.Index != idx || m.Attributes == nil || int(m.PrefixLength) != p.Bits() {
			continue
		}
		ip := m.Attributes.Address
		if m.Family == unix.AF_INET && m.Attributes.Local != nil {
			ip = m.Attributes.Local
		}
		if a, ok := netip.AddrFromSlice(ip); ok && a == p.Addr() {
			return true, nil
		}
	}
	return false, nil
}

// carrier sets the adapter's carrier by taking its veth peer down or up:
// veth gives an adapter carrier exactly when both ends are up.
//
// The kernel applies the adapter's carrier change to its routes
// (NETDEV_CHANGE: fib_sync_down_dev / fib_sync_up for IPv4,
// rt6_sync_down_dev / rt6_sync_up for IPv6, which set and clear
// RTNH_F_LINKDOWN) from the linkwatch work, after the call on the peer
// has returned, and then announces the adapter's new operational state
// with RTM_NEWLINK (linkwatch_do_dev → netif_state_change). So when the
// peer's state changes and the adapter is up, carrier waits up to
// LocalWait for the adapter's own RTM_NEWLINK carrying IF_OPER_UP (on) or
// IF_OPER_LOWERLAYERDOWN (off). An earlier RTM_NEWLINK of the adapter
// already has IFF_LOWER_UP flipped, so the flag proves nothing. When the
// notification does not come, it polls the route table for the linkdown
// flags instead, and reports the stack unsettled only when they are still
// wrong at the deadline. A down adapter gets no NETDEV_CHANGE (its
// routes, but IPv4 local ones, are gone, and those never carry linkdown):
// nothing is waited for. When the peer is already in the state asked for,
// nothing changes and nothing is sent.
func (s *Stack) carrier(op model.Op, idx uint32) error {
	s.unsettled = false
	peer := s.peers[op.Adapter]
	if _, plugged := s.names[idx]; !plugged {
		// The peer went with the adapter: ENODEV for its old ifindex.
		err := s.c.Link.Set(&rtnetlink.LinkMessage{Index: peer, Change: unix.IFF_UP})
		if err == nil {
			return fmt.Errorf("linux: %s: the unplugged adapter's peer %d is still there", op, peer)
		}
		return opError(op, err)
	}
	pl, err := s.getLink(peer)
	if err != nil {
		return fmt.Errorf("linux: %s: peer %d: %w", op, peer, err)
	}
	if (pl.Flags&unix.IFF_UP != 0) == op.On {
		return nil
	}
	al, err := s.getLink(idx)
	if err != nil {
		return opError(op, err)
	}
	drained := s.events.drain() == nil
	var flags uint32
	if op.On {
		flags = unix.IFF_UP
	}
	if err := s.c.Link.Set(&rtnetlink.LinkMessage{Index: peer, Flags: flags, Change: unix.IFF_UP}); err != nil {
		return fmt.Errorf("linux: %s: setting peer %d: %w", op, peer, err)
	}
	if al.Flags&unix.IFF_UP == 0 {
		return nil
	}
	want := uint8(rtnetlink.OperStateLowerLayerDown) // IF_OPER_LOWERLAYERDOWN, 3
	if op.On {
		want = uint8(rtnetlink.OperStateUp) // IF_OPER_UP, 6
	}
	deadline := time.Now().Add(LocalWait)
	if drained && s.events.awaitOper(idx, want, deadline) == nil {
		return nil
	}
	for backoff := 50 * time.Microsecond; ; backoff = min(2*backoff, 10*time.Millisecond) {
		if ok, err := s.linkdownSettled(idx, !op.On); err == nil && ok {
			return nil
		}
		if time.Now().After(deadline) {
			s.unsettled = true
			return nil
		}
		time.Sleep(backoff)
	}
}

// linkdownSettled reports whether every route on ifindex idx but the local
// ones (and the multicast noise) has RTNH_F_LINKDOWN set as want says.
func (s *Stack) linkdownSettled(idx uint32, want bool) (bool, error) {
	msgs, err := s.c.Route.List()
	if err != nil {
		return false, err
	}
	for i := range msgs {
		m := &msgs[i]
		if m.Attributes.OutIface != idx || m.Type == unix.RTN_LOCAL || s.noise(m) {
			continue
		}
		if (m.Flags&unix.RTNH_F_LINKDOWN != 0) != want {
			return false, nil
		}
	}
	return true, nil
}

// peersUp gives every adapter its carrier back (Reset): each peer left
// down by a carrier off is set up, waiting as carrier on does.
func (s *Stack) peersUp() error {
	for name, idx := range s.index {
		if err := s.carrier(model.Op{Kind: model.Carrier, Adapter: name, On: true}, idx); err != nil {
			return fmt.Errorf("linux: reset: %w", err)
		}
		if s.unsettled {
			return fmt.Errorf("linux: reset: %s: carrier not back after %v", name, LocalWait)
		}
	}
	return nil
}

// getLink asks for one link by ifindex (RTM_GETLINK). Unlike the
// library's Link.Get it returns the kernel's error (ENODEV) as is.
func (s *Stack) getLink(idx uint32) (rtnetlink.LinkMessage, error) {
	body, err := (&rtnetlink.LinkMessage{Family: unix.AF_UNSPEC, Index: idx}).MarshalBinary()
	if err != nil {
		return rtnetlink.LinkMessage{}, err
	}
	msgs, err := s.raw.Execute(netlink.Message{Header: netlink.Header{Type: unix.RTM_GETLINK, Flags: netlink.Request}, Data: body})
	if err != nil {
		return rtnetlink.LinkMessage{}, err
	}
	if len(msgs) != 1 {
		return rtnetlink.LinkMessage{}, fmt.Errorf("RTM_GETLINK of ifindex %d: %d answers, want 1", idx, len(msgs))
	}
	var l rtnetlink.LinkMessage
	if err := l.UnmarshalBinary(msgs[0].Data); err != nil {
		return rtnetlink.LinkMessage{}, err
	}
	return l, nil
}
