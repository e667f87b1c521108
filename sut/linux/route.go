package linux

import (
	"errors"
	"fmt"
	"net"
	"slices"

	"github.com/jsimonetti/rtnetlink/v2"
	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"

	"github.com/routefuzz/routefuzz/model"
)

// routeMessage encodes a user's route as `ip route add` sends it
// (docs/routes-semantics.md §2): table main, protocol RTPROT_BOOT, type
// unicast, scope link for an IPv4 route without gateway and universe
// otherwise, RTA_OIF, RTA_GATEWAY and RTA_PREFSRC when given, and
// RTA_PRIORITY with the family's default applied (IPv6: 1024 for none or
// 0; IPv4: 0, which is also what the kernel takes when it is absent, the
// only way the library can send it).
func routeMessage(op model.Op, idx uint32) *rtnetlink.RouteMessage {
	p := op.Prefix
	m := &rtnetlink.RouteMessage{
		Family:    unix.AF_INET6,
		DstLength: uint8(p.Bits()),
		Table:     unix.RT_TABLE_MAIN,
		Protocol:  unix.RTPROT_BOOT,
		Scope:     unix.RT_SCOPE_UNIVERSE,
		Type:      unix.RTN_UNICAST,
		Attributes: rtnetlink.RouteAttributes{
			OutIface: idx,
			Priority: op.RouteMetric(),
		},
	}
	if p.Addr().Is4() {
		m.Family = unix.AF_INET
		if !op.Via.IsValid() {
			m.Scope = unix.RT_SCOPE_LINK
		}
	}
	if p.Bits() > 0 {
		m.Attributes.Dst = net.IP(p.Addr().AsSlice())
	}
	if op.Via.IsValid() {
		m.Attributes.Gateway = net.IP(op.Via.AsSlice())
	}
	if op.Src.IsValid() {
		m.Attributes.Src = net.IP(op.Src.AsSlice())
	}
	return m
}

// routeOp performs a route add or route del on the adapter of ifindex idx,
// which is plugged in.
//
// Add is RTM_NEWROUTE with NLM_F_CREATE|NLM_F_EXCL (the library's Add).
//
// Del is RTM_DELROUTE of the same message, but the kernel takes every
// attribute a request leaves out as a wildcard (IPv4 metric 0 is one, and
// so is an absent gateway: docs/routes-semantics.md §2d), so del first
// dumps the table and answers notfound itself unless the user's route
// (protocol boot) of that destination, gateway, adapter and metric is
// there; the request then names exactly that route (with RTPROT_BOOT, a
// kernel route of the same key cannot match; among the user's routes
// (destination, metric) is a key).
func (s *Stack) routeOp(op model.Op, idx uint32) error {
	m := routeMessage(op, idx)
	if op.Kind == model.RouteAdd {
		if err := s.c.Route.Add(m); err != nil {
			if s.badSource(op, err) {
				return &model.OpError{Op: op, Result: model.BadSource, Msg: kernelText(err, unix.EINVAL)}
			}
			return opError(op, err)
		}
		return nil
	}
	has, err := s.hasUserRoute(op)
	if err != nil {
		return fmt.Errorf("linux: %s: %w", op, err)
	}
	if !has {
		return &model.OpError{Op: op, Result: model.NotFound,
			Msg: "no such route (checked by the harness: the kernel would take absent attributes as wildcards)"}
	}
	m.Scope = unix.RT_SCOPE_NOWHERE // any scope, as ip route del
	if err := s.c.Route.Delete(m); err != nil {
		return opError(op, err)
	}
	return nil
}

// hasUserRoute reports whether the user's route that del op names is in
// the main table.
func (s *Stack) hasUserRoute(op model.Op) (bool, error) {
	rs, err := s.Routes()
	if err != nil {
		return false, err
	}
	metric := op.RouteMetric()
	for _, r := range rs {
		if r.Proto == model.ProtoBoot && r.Dst == op.Prefix && r.Via == op.Via && r.Dev == op.Adapter && r.Metric == metric {
			return true, nil
		}
	}
	return false, nil
}

// badSource reports whether err, route add op's EINVAL, is the kernel's
// refusal of the op's source: by the kernel's message (extack "Invalid
// prefsrc address" for IPv4, "Invalid source address" for IPv6); when
// the kernel gave none, by whether any adapter holds the source.
func (s *Stack) badSource(op model.Op, err error) bool {
	var errno unix.Errno
	if op.Kind != model.RouteAdd || !op.Src.IsValid() || !errors.As(err, &errno) || errno != unix.EINVAL {
		return false
	}
	var oe *netlink.OpError
	if errors.As(err, &oe) && oe.Message != "" {
		return oe.Message == "Invalid prefsrc address" || oe.Message == "Invalid source address"
	}
	as, aerr := s.Addrs()
	return aerr == nil && !slices.ContainsFunc(as, func(a model.Addr) bool { return a.Prefix.Addr() == op.Src })
}
