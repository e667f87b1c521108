package linux

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"time"

	"github.com/jsimonetti/rtnetlink/v2"
	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

// LocalWait bounds how long Apply waits, after adding an IPv6 address,
// for the kernel to insert the address's local route. The route is
// inserted by the address's DAD work item, even with IFA_F_NODAD, after
// the add has returned. Measured here over 3,300 adds during a hunt:
// median 40 µs, 99th percentile 4.7 ms, and a tail up to 560 ms while
// other processes loaded the machine; with the machine at a load of 20 on
// 2 cores one took over a second. The wait ends as soon as the route is
// in, so only an add whose local route never comes (a kernel divergence)
// pays it in full. It also bounds the wait for a carrier change to reach
// the routes (measured: slowest 20 ms of 1,200 under load, none timed
// out).
const LocalWait = 2 * time.Second

// events receives the kernel's IPv6 route notifications (RTNLGRP_IPV6_ROUTE)
// and link notifications (RTNLGRP_LINK) in the stack's namespace.
type events struct {
	c   *netlink.Conn
	buf []byte
}

func dialEvents(nsfd int) (*events, error) {
	c, err := netlink.Dial(unix.NETLINK_ROUTE, &netlink.Config{NetNS: nsfd, Groups: unix.RTMGRP_IPV6_ROUTE | unix.RTMGRP_LINK})
	if err != nil {
		return nil, err
	}
	return &events{c: c, buf: make([]byte, 1<<16)}, nil
}

func (e *events) close() error { return e.c.Close() }

// drain discards every notification queued so far, without waiting, and
// the overflow error (ENOBUFS) of a socket that has lost some: what
// arrives after drain returns is about what happens after it was called.
func (e *events) drain() error {
	// A past deadline (awaitLocal6's) would fail the read before it starts.
	if err := e.c.SetReadDeadline(time.Time{}); err != nil {
		return err
	}
	rc, err := e.c.SyscallConn()
	if err != nil {
		return err
	}
	var rerr error
	err = rc.Read(func(fd uintptr) bool {
		for {
			_, _, err := unix.Recvfrom(int(fd), e.buf, unix.MSG_DONTWAIT)
			switch {
			case err == nil, errors.Is(err, unix.ENOBUFS), errors.Is(err, unix.EINTR):
				continue
			case errors.Is(err, unix.EAGAIN):
			default:
				rerr = err
			}
			return true // done: never wait for readiness
		}
	})
	if err != nil {
		return err
	}
	return rerr
}

// errLost says the socket overflowed while waiting: notifications were
// lost, so their absence proves nothing.
var errLost = errors.New("route notifications lost (ENOBUFS)")

// awaitLocal6 waits until deadline for the RTM_NEWROUTE notification of
// the local route of addr on ifindex idx. Only that message type counts:
// the RTM_DELROUTE of the same route, left by an earlier delete of the
// same address, is not its insertion. The caller drains the socket before
// the add, so nothing older than the add can match. It returns nil when
// the route is in, os.ErrDeadlineExceeded when the deadline passed, and
// errLost when notifications were lost.
func (e *events) awaitLocal6(addr netip.Addr, idx uint32, deadline time.Time) error {
	want := addr.As16()
	return e.await(deadline, "route", func(m netlink.Message) bool {
		if m.Header.Type != unix.RTM_NEWROUTE {
			return false
		}
		var r rtnetlink.RouteMessage
		return r.UnmarshalBinary(m.Data) == nil && r.Type == unix.RTN_LOCAL && r.DstLength == 128 &&
			r.Attributes.OutIface == idx && len(r.Attributes.Dst) == 16 && [16]byte(r.Attributes.Dst) == want
	})
}

// awaitOper waits until deadline for an RTM_NEWLINK of ifindex idx that
// carries IFLA_OPERSTATE oper. The kernel sends it from the linkwatch work
// after the NETDEV_CHANGE notifiers have updated the routes. The caller
// drains the socket before the change, so nothing older can match. It
// returns nil when it came, os.ErrDeadlineExceeded when the deadline
// passed, and errLost when notifications were lost.
func (e *events) awaitOper(idx uint32, oper uint8, deadline time.Time) error {
	return e.await(deadline, "link", func(m netlink.Message) bool {
		if m.Header.Type != unix.RTM_NEWLINK {
			return false
		}
		var l rtnetlink.LinkMessage
		return l.UnmarshalBinary(m.Data) == nil && l.Attributes != nil &&
			l.Index == idx && uint8(l.Attributes.OperationalState) == oper
	})
}

// await reads notifications until one matches or deadline passes. It
// returns nil when one matched, os.ErrDeadlineExceeded when the deadline
// passed, and errLost when notifications were lost; what names them in
// an error ("route", "link").
func (e *events) await(deadline time.Time, what string, match func(netlink.Message) bool) error {
	if err := e.c.SetReadDeadline(deadline); err != nil {
		return err
	}
	for {
		msgs, err := e.c.Receive()
		switch {
		case errors.Is(err, unix.ENOBUFS):
			return errLost
		case errors.Is(err, os.ErrDeadlineExceeded):
			return err
		case err != nil:
			return fmt.Errorf("reading %s notifications: %w", what, err)
		}
		for _, m := range msgs {
			if match(m) {
				return nil
			}
		}
	}
}
