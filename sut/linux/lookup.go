package linux

import (
	"errors"
	"fmt"
	"net"
	"net/netip"

	"github.com/jsimonetti/rtnetlink/v2"
	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"

	"github.com/routefuzz/routefuzz/model"
	"github.com/routefuzz/routefuzz/sut"
)

var _ sut.BatchLooker = (*Stack)(nil)

// lookupBatch bounds the requests sent before their answers are read, so
// that the answers queued meanwhile stay well within the socket's receive
// buffer.
const lookupBatch = 64

// Lookup asks the kernel for the route to dst, as `ip route get DST`:
// RTM_GETROUTE with RTA_DST only (no output interface, which would make
// IPv4 invent an on-link answer, and no source). See LookupAll.
func (s *Stack) Lookup(dst netip.Addr) (model.LookupResult, error) {
	ls, err := s.LookupAll([]netip.Addr{dst})
	if err != nil {
		return model.LookupResult{}, err
	}
	return ls[0], nil
}

// LookupAll asks the kernel for the routes to dsts: the requests are sent
// together (up to lookupBatch in one sendmsg) and the answers read after,
// one per request in the order sent, which is how the kernel processes
// and answers a batch (netlink_rcv_skb). An answer is rtm_type with
// RTA_OIF, RTA_GATEWAY and RTA_PREFSRC: RTN_LOCAL is model.ToLocal with
// no adapter (the kernel names lo), RTN_BROADCAST model.ToBroadcast,
// RTN_UNICAST model.ToUnicast; ENETUNREACH and EHOSTUNREACH are
// model.Unreachable. Anything else is a harness error.
func (s *Stack) LookupAll(dsts []netip.Addr) ([]model.LookupResult, error) {
	if s.c == nil {
		return nil, errClosed
	}
	out := make([]model.LookupResult, 0, len(dsts))
	for len(dsts) > 0 {
		n := min(len(dsts), lookupBatch)
		ls, err := s.lookupBatch(dsts[:n])
		if err != nil {
			return nil, err
		}
		out = append(out, ls...)
		dsts = dsts[n:]
	}
	return out, nil
}

func (s *Stack) lookupBatch(dsts []netip.Addr) ([]model.LookupResult, error) {
	msgs := make([]netlink.Message, len(dsts))
	for i, d := range dsts {
		req := rtnetlink.RouteMessage{
			Family:     unix.AF_INET,
			DstLength:  32,
			Attributes: rtnetlink.RouteAttributes{Dst: net.IP(d.AsSlice())},
		}
		if d.Is6() {
			req.Family, req.DstLength = unix.AF_INET6, 128
		}
		body, err := req.MarshalBinary()
		if err != nil {
			return nil, fmt.Errorf("linux: lookup %s: %w", d, err)
		}
		msgs[i] = netlink.Message{Header: netlink.Header{Type: unix.RTM_GETROUTE, Flags: netlink.Request}, Data: body}
	}
	sent, err := s.raw.SendMessages(msgs)
	if err != nil {
		return nil, fmt.Errorf("linux: sending lookups: %w", err)
	}
	out := make([]model.LookupResult, len(dsts))
	for i, d := range dsts {
		ms, err := s.raw.Receive()
		var errno unix.Errno
		switch {
		case errors.As(err, &errno) && (errno == unix.ENETUNREACH || errno == unix.EHOSTUNREACH):
			out[i] = model.LookupResult{Dst: d, Hop: model.Hop{Kind: model.Unreachable}}
			continue
		case err != nil:
			return nil, fmt.Errorf("linux: lookup %s: %w", d, err)
		case len(ms) != 1 || ms[0].Header.Sequence != sent[i].Header.Sequence:
			return nil, fmt.Errorf("linux: lookup %s: %d answers, or an answer out of order", d, len(ms))
		}
		var m rtnetlink.RouteMessage
		if err := m.UnmarshalBinary(ms[0].Data); err != nil {
			return nil, fmt.Errorf("linux: lookup %s: %w", d, err)
		}
		h, err := s.hop(&m)
		if err != nil {
			return nil, fmt.Errorf("linux: lookup %s: %w", d, err)
		}
		out[i] = model.LookupResult{Dst: d, Hop: h}
	}
	return out, nil
}

// hop converts an RTM_GETROUTE answer.
func (s *Stack) hop(m *rtnetlink.RouteMessage) (model.Hop, error) {
	var h model.Hop
	a := &m.Attributes
	switch m.Type {
	case unix.RTN_UNICAST:
		h.Kind = model.ToUnicast
	case unix.RTN_LOCAL:
		h.Kind = model.ToLocal
	case unix.RTN_BROADCAST:
		h.Kind = model.ToBroadcast
	default:
		return h, fmt.Errorf("an answer of type %d", m.Type)
	}
	if h.Kind != model.ToLocal {
		dev, ok := s.names[a.OutIface]
		if !ok {
			return h, fmt.Errorf("an answer by ifindex %d, not an adapter", a.OutIface)
		}
		h.Dev = dev
	}
	for _, x := range []struct {
		ip  net.IP
		dst *netip.Addr
	}{{a.Gateway, &h.Via}, {a.Src, &h.Src}} {
		if x.ip == nil {
			continue
		}
		ip, ok := netip.AddrFromSlice(x.ip)
		if !ok {
			return h, fmt.Errorf("a malformed address %v", x.ip)
		}
		*x.dst = ip.Unmap()
	}
	return h, nil
}
