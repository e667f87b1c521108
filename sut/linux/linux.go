// Package linux is the Linux kernel as an implementation under test: it
// drives the kernel's address and route tables over rtnetlink inside a
// private network namespace that it creates, and reads them back.
//
// # Namespace and adapters
//
// Open creates a namespace named routefuzz-<pid>-<tag>, bind-mounted under
// /run/netns (see Prefix), so `ip netns exec routefuzz-<pid>-<tag> ip addr`
// shows what the harness is doing. Each adapter of the model is a veth
// with the adapter's own name; its peer, named "peer~<i>" (a name the op
// grammar cannot produce), is up and has IPv6 disabled, so the adapter has
// carrier and the peer adds nothing to the tables. Before the adapters
// exist, net.ipv6.conf.default.addr_gen_mode is set to 1 (no link-local
// addresses), and forwarding is off. Loopback stays down, so it has no
// addresses and no routes. IPv6 addresses are added with IFA_F_NODAD, and
// the adapters are NOARP, so no neighbour discovery and no MLD report is
// ever sent: configuring addresses sends no packet at all. Also before the
// adapters exist, net.ipv6.route.gc_interval (a per-namespace sysctl) is set
// to 86400 s; see "IPv6 route expiry" below.
//
// # Address attributes
//
// Add and change send their own RTM_NEWADDR (the rtnetlink library sends
// neither IFA_CACHEINFO nor a zero IFA_RT_PRIORITY): IFA_FLAGS with
// IFA_F_NODAD on IPv6 and IFA_F_NOPREFIXROUTE for noprefixroute,
// IFA_RT_PRIORITY for the metric, IFA_CACHEINFO for valid_lft and
// preferred_lft. Without IFA_CACHEINFO the kernel makes the address
// permanent (INFINITY_LIFE_TIME, IFA_F_PERMANENT set), also on a change.
//
// # Change
//
// Change is RTM_NEWADDR with NLM_F_REPLACE alone, as `ip addr change`
// sends it. The kernel takes that as an add when the address is missing,
// and applies it to an IPv6 address given at another length, so Apply
// first dumps the addresses and answers notfound itself unless the exact
// address and length is on the adapter; for an unplugged adapter it asks
// for the device (RTM_GETLINK by the old ifindex), which gives ENODEV, and
// sends nothing. The metric is always sent for IPv4, zero included (the
// kernel replaces it whatever it is), and only when not zero for IPv6 (the
// kernel keeps the old one otherwise, as the model does). IPv6 replaces the
// flags wholesale, so IFA_F_NODAD is sent again. IPv4 ignores
// IFA_F_NOPREFIXROUTE on a change: a known divergence from the model.
//
// # User routes
//
// Route add is RTM_NEWROUTE with NLM_F_CREATE|NLM_F_EXCL, as `ip route
// add` sends it: table main, protocol RTPROT_BOOT, scope link for an IPv4
// route without gateway and universe otherwise, RTA_OIF, RTA_GATEWAY,
// RTA_PREFSRC and RTA_PRIORITY (IPv6: 1024 when the op gives none). Route
// del first dumps the table and answers notfound itself unless the exact
// user's route is there, since the kernel takes every attribute a delete
// leaves out as a wildcard; then it sends RTM_DELROUTE with the protocol,
// gateway and metric. A route op on an unplugged adapter is invalid
// without asking the kernel. Errors: ENETUNREACH (IPv4) and EHOSTUNREACH
// (IPv6) are unreachable, an EINVAL whose extended ack refuses the
// source badsrc, ENETDOWN netdown, ESRCH notfound. The dump reports user
// routes (RTPROT_BOOT in main) with their gateway. Several route flushes
// are silent (no RTM_DELROUTE: an IPv4 adapter's last address, down,
// linkdown changes), so the tables are always dumped, never inferred from
// notifications; Reset deletes what routes outlive the addresses.
//
// # Carrier
//
// Carrier off and on take the adapter's veth peer down and up (veth has
// carrier when both ends are up). The kernel applies the adapter's
// carrier change to its routes (NETDEV_CHANGE sets or clears
// RTNH_F_LINKDOWN, reported as Route.Linkdown, on every route of the
// adapter but the local ones) from its linkwatch work, after the call on
// the peer has returned, and then sends the adapter's RTM_NEWLINK with its
// new IFLA_OPERSTATE: IF_OPER_LOWERLAYERDOWN (3) or IF_OPER_UP (6). So when
// the peer's state changes and the adapter is up, Apply waits up to
// LocalWait for that notification on the events socket (which also
// subscribes to RTNLGRP_LINK, and is drained before the change); the
// adapter's IFF_LOWER_UP alone proves nothing, as an earlier RTM_NEWLINK
// already has it flipped. If the notification does not come it polls the
// routes' linkdown flags, and only when they are still wrong at the
// deadline is the stack unsettled (Lag). When the peer is already in the
// state asked for nothing is sent and nothing waited for. An adapter that
// is down gets no NETDEV_CHANGE and has no routes that could carry
// linkdown; when it comes up without carrier its routes are added with
// linkdown at once. Carrier of an unplugged adapter is ENODEV (invalid).
// Reset, plug and the re-creation of adapters leave every peer up, so
// every adapter has carrier; Reset waits for it as carrier on does.
//
// # IPv6 route expiry
//
// A change of a permanent IPv6 address to lifetimes at the same metric
// gives its prefix route an expiry in the past (kernel bug D3,
// docs/lifecycle-semantics.md §8: modify_prefix_route stores a relative
// clock_t as absolute jiffies). The fib6 garbage collector then deletes
// the route. With gc_interval at 86400 the periodic collection never runs
// during a run, so the route's fate no longer depends on time; but the
// kernel also collects at once on any NETDEV_DOWN in the namespace
// (ndisc_netdev_event: down, carrier off, which takes a peer down, and
// unplug), so the route still goes at the next such op: a known
// divergence, deterministic.
//
// # Baseline noise
//
// Routes and Addrs report only what an adapter's addresses created. They
// leave out exactly this, and nothing else:
//
//   - the IPv6 multicast route "multicast ff00::/8 table local" that every
//     IPv6-enabled adapter that is up has;
//   - addresses on devices other than the adapters (there are none).
//
// Any other route that is not on an adapter, or that is not a connected,
// local or broadcast route, is reported as an error, not dropped.
//
// # Asynchronous IPv6 local routes
//
// The kernel inserts an IPv6 address's local route from a work item after
// the add has returned. Apply waits up to LocalWait for the route's
// RTM_NEWROUTE notification on a second socket subscribed to
// RTNLGRP_IPV6_ROUTE (and RTNLGRP_LINK, for carrier), which it drains
// before the add so that nothing left
// by an earlier op (the RTM_DELROUTE of the same address deleted before)
// can end the wait. When notifications were lost it polls the table.
// Only when the route is still missing after LocalWait does the stack
// report itself unsettled (Lag), and the harness re-reads the tables for
// up to Lag before it declares a divergence; otherwise a difference is
// final at once, which keeps shrinking a real divergence fast.
//
// # Down and up
//
// Down and up set and clear IFF_UP (RTM_NEWLINK). After up, the kernel
// re-inserts the local route of each IPv6 address kept over down
// (net.ipv6.conf.all.keep_addr_on_down, which Reset writes and reads
// back) from the address's DAD work, after the call has returned; Apply
// waits for every such route as it does after an add. Reset brings every
// adapter up again.
//
// # Cleanup
//
// Close removes the namespace. On SIGINT and SIGTERM, internal/interrupt
// removes the names of every namespace the process created and exits with
// 128+signal. A namespace whose run died otherwise (SIGKILL, a crash) is
// removed by the next Open in any process, in any pid namespace sharing
// /run/netns: a run holds an flock on its namespace for its lifetime, and
// Reap removes only names whose lock it can take.
package linux

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/jsimonetti/rtnetlink/v2"
	"github.com/jsimonetti/rtnetlink/v2/driver"
	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"

	"github.com/routefuzz/routefuzz/model"
	"github.com/routefuzz/routefuzz/sut"
)

// Lag is how long the harness re-reads the routes, after Apply returned,
// before it declares a divergence. Apply has already waited for the IPv6
// local route and for a carrier change (see LocalWait), so this only
// covers what is left; it is
// short so that shrinking a real divergence stays fast.
const Lag = 20 * time.Millisecond

// Stack is the kernel in a private network namespace. Its methods must not
// be called concurrently.
type Stack struct {
	ns      *netns
	c       *rtnetlink.Conn
	raw     *netlink.Conn // address requests the library cannot encode
	events  *events       // IPv6 route and link notifications
	cfg     model.Config
	promote bool                // current promote_secondaries
	index   map[string]uint32   // adapter → ifindex
	names   map[uint32]string   // ifindex → adapter
	gone    map[string]uint32   // unplugged adapter → the ifindex it had
	peers   map[string]uint32   // adapter → its veth peer's ifindex (the old one when unplugged)
	ctl     map[string]*os.File // "all" and each adapter → its promote_secondaries
	keepCtl *os.File            // net.ipv6.conf.all.keep_addr_on_down
	ready   bool                // adapters exist and match cfg.Adapters
	lag     time.Duration       // Lag, unless a test shortens it
	// unsettled says the last Apply could not see its whole effect in
	// the tables (an IPv6 local route still missing, or linkdown flags
	// not yet changed, after LocalWait).
	unsettled bool
}

var _ sut.Lagger = (*Stack)(nil)

// Open reaps namespaces left behind by dead routefuzz processes, then
// creates a namespace for a new stack. It needs CAP_SYS_ADMIN and
// CAP_NET_ADMIN (root). Reset the stack before use and Close it after.
// What Reap cannot remove is said once on standard error: it does not
// stop this run.
func Open() (*Stack, error) {
	if _, err := Reap(); err != nil {
		reapWarning.Do(func() {
			fmt.Fprintf(os.Stderr, "routefuzz: warning: reaping the namespaces of dead runs: %v\n", err)
		})
	}
	ns, err := newNetns()
	if err != nil {
		return nil, err
	}
	c, err := rtnetlink.Dial(&netlink.Config{NetNS: int(ns.fd.Fd()), Strict: true})
	if err != nil {
		ns.close()
		return nil, fmt.Errorf("netlink socket in %s: %w", ns.name, err)
	}
	raw, err := netlink.Dial(unix.NETLINK_ROUTE, &netlink.Config{NetNS: int(ns.fd.Fd()), Strict: true})
	if err != nil {
		c.Close()
		ns.close()
		return nil, fmt.Errorf("netlink socket in %s: %w", ns.name, err)
	}
	events, err := dialEvents(int(ns.fd.Fd()))
	if err != nil {
		raw.Close()
		c.Close()
		ns.close()
		return nil, fmt.Errorf("netlink event socket in %s: %w", ns.name, err)
	}
	return &Stack{ns: ns, c: c, raw: raw, events: events, lag: Lag}, nil
}

var errClosed = errors.New("linux: stack is closed")

var reapWarning sync.Once

// Name returns the namespace's name, for `ip netns exec`.
func (s *Stack) Name() string { return s.ns.name }

// Lag implements sut.Lagger: zero when the last Apply saw its whole effect
// in the tables (Apply waits for the IPv6 local route an add inserts
// asynchronously, and for the linkdown flags of a carrier change, the
// only parts of an op the kernel completes after answering), else the
// time to keep re-reading.
func (s *Stack) Lag() time.Duration {
	if s.unsettled {
		return s.lag
	}
	return 0
}

// Close destroys the namespace. It is safe to call twice.
func (s *Stack) Close() error {
	if s.c == nil {
		return nil
	}
	var errs []error
	for _, f := range s.ctl {
		f.Close()
	}
	s.ctl = nil
	if s.keepCtl != nil {
		s.keepCtl.Close()
		s.keepCtl = nil
	}
	errs = append(errs, s.c.Close(), s.raw.Close(), s.events.close())
	s.c = nil
	errs = append(errs, s.ns.close())
	return errors.Join(errs...)
}

// Reset makes the stack cfg's adapters with no addresses and no routes.
// When the adapter set is unchanged it keeps the namespace and adapters
// and only deletes addresses and the routes that outlive them; otherwise
// it replaces the adapters. Either way it then checks that the tables are
// back at their baseline.
func (s *Stack) Reset(cfg model.Config) error {
	if s.c == nil {
		return errClosed
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	for _, a := range cfg.Adapters {
		switch a {
		case "lo":
			return fmt.Errorf("adapter name %q is the namespace's loopback device: %w", a, sut.ErrUnsupported)
		case "all", "default":
			return fmt.Errorf("adapter name %q is taken by the kernel's net.ipv4.conf.%s sysctls: %w", a, a, sut.ErrUnsupported)
		case ".", "..":
			return fmt.Errorf("adapter name %q is not a name the kernel takes for a device (dev_valid_name): %w", a, sut.ErrUnsupported)
		}
	}
	if !s.ready || !slices.Equal(cfg.Adapters, s.cfg.Adapters) {
		if err := s.makeAdapters(cfg.Adapters); err != nil {
			return err
		}
	} else if err := s.flush(); err != nil {
		return err
	} else if err := s.replug(cfg.Adapters); err != nil {
		return err
	}
	s.cfg = model.Config{Adapters: slices.Clone(cfg.Adapters), Promote: cfg.Promote, KeepAddrOnDown: cfg.KeepAddrOnDown}
	if err := s.setPromote(cfg.Promote); err != nil {
		return err
	}
	if err := s.setKeep(cfg.KeepAddrOnDown); err != nil {
		return err
	}
	if err := s.atBaseline(); err != nil {
		// Something survived the flush: start over with new adapters.
		if err := s.makeAdapters(cfg.Adapters); err != nil {
			return err
		}
		if err := s.setPromote(cfg.Promote); err != nil {
			return err
		}
		if err := s.setKeep(cfg.KeepAddrOnDown); err != nil {
			return err
		}
		if err := s.atBaseline(); err != nil {
			return fmt.Errorf("linux: tables not at baseline after recreating the adapters: %w", err)
		}
	}
	return nil
}

// makeAdapters deletes every link but loopback and creates names as veths.
func (s *Stack) makeAdapters(names []string) error {
	s.ready = false
	for _, f := range s.ctl {
		f.Close()
	}
	s.ctl = nil
	if s.keepCtl != nil {
		s.keepCtl.Close()
		s.keepCtl = nil
	}
	links, err := s.c.Link.List()
	if err != nil {
		return fmt.Errorf("listing links: %w", err)
	}
	for _, l := range links {
		if l.Flags&unix.IFF_LOOPBACK != 0 {
			continue
		}
		// Deleting a veth deletes its peer, which may be later in the list.
		if err := s.c.Link.Delete(l.Index); err != nil && !errors.Is(err, unix.ENODEV) {
			return fmt.Errorf("deleting link %d: %w", l.Index, err)
		}
	}
	s.index = make(map[string]uint32, len(names))
	s.names = make(map[uint32]string, len(names))
	s.gone = map[string]uint32{}
	s.peers = make(map[string]uint32, len(names))
	peers := make([]string, len(names))
	for i, name := range names {
		peers[i] = fmt.Sprintf("peer~%d", i)
		err := s.c.Link.New(&rtnetlink.LinkMessage{
			Attributes: &rtnetlink.LinkAttributes{
				Name: name,
				Info: &rtnetlink.LinkInfo{Kind: "veth", Data: &driver.Veth{
					PeerInfo: &rtnetlink.LinkMessage{Attributes: &rtnetlink.LinkAttributes{Name: peers[i]}},
				}},
			},
		})
		if err != nil {
			return fmt.Errorf("creating veth %s: %w", name, err)
		}
	}
	links, err = s.c.Link.List()
	if err != nil {
		return fmt.Errorf("listing links: %w", err)
	}
	var up []uint32
	for _, l := range links {
		if l.Attributes == nil || l.Flags&unix.IFF_LOOPBACK != 0 {
			continue
		}
		if slices.Contains(names, l.Attributes.Name) {
			s.index[l.Attributes.Name] = l.Index
			s.names[l.Index] = l.Attributes.Name
		}
		if i := slices.Index(peers, l.Attributes.Name); i >= 0 {
			s.peers[names[i]] = l.Index
		}
		up = append(up, l.Index)
	}
	if len(s.index) != len(names) || len(s.peers) != len(names) {
		return fmt.Errorf("created %d adapters, found %d and %d peers", len(names), len(s.index), len(s.peers))
	}
	// Peers: no IPv6, so no multicast route and nothing else on them.
	// Then open each promote_secondaries entry once; an open sysctl file
	// keeps referring to this namespace from any thread.
	ctl := map[string]*os.File{}
	err = s.ns.do(func() error {
		var ss []sysctl
		for _, p := range peers {
			ss = append(ss, sysctl{"net/ipv6/conf/" + p + "/disable_ipv6", "1"})
		}
		if err := writeSysctls(ss); err != nil {
			return err
		}
		for _, n := range append([]string{"all"}, names...) {
			f, err := os.OpenFile("/proc/sys/net/ipv4/conf/"+n+"/promote_secondaries", os.O_RDWR, 0)
			if err != nil {
				return err
			}
			ctl[n] = f
		}
		f, err := os.OpenFile("/proc/sys/net/ipv6/conf/all/keep_addr_on_down", os.O_RDWR, 0)
		if err != nil {
			return err
		}
		s.keepCtl = f
		return nil
	})
	s.ctl = ctl
	if err != nil {
		return err
	}
	// NOARP: no neighbour discovery and no MLD reports for solicited-node
	// groups, so adding addresses sends no packet, even to the peer.
	for _, i := range up {
		flags := uint32(unix.IFF_UP | unix.IFF_NOARP)
		err := s.c.Link.Set(&rtnetlink.LinkMessage{Index: i, Flags: flags, Change: flags})
		if err != nil {
			return fmt.Errorf("setting link %d up: %w", i, err)
		}
	}
	s.promote = false
	if err := s.writePromote(false); err != nil {
		return err
	}
	if err := s.setKeep(false); err != nil {
		return err
	}
	s.ready = true
	return nil
}

// replug creates again, as makeAdapters made them, the adapters that an
// op unplugged. The kernel lists devices (dev_base) in the order they
// were made, and that order decides an IPv4 route's source when its
// adapter has no address (inet_select_addr falls back to the first
// device with one) and ties of IPv6 source selection; so from the first
// adapter that is gone or out of order (unplugged and plugged in again by
// the ops: ifindexes grow with creation) on, every adapter is made again,
// in names' order.
func (s *Stack) replug(names []string) error {
	var last uint32
	first := slices.IndexFunc(names, func(n string) bool {
		idx, ok := s.index[n]
		if !ok || idx < last {
			return true
		}
		last = idx
		return false
	})
	if first < 0 {
		return nil
	}
	for _, n := range names[first:] {
		if idx, ok := s.index[n]; ok {
			if err := s.unplug(model.Op{Kind: model.Unplug, Adapter: n}, idx); err != nil {
				return fmt.Errorf("linux: reset: %w", err)
			}
		}
	}
	for _, n := range names[first:] {
		if err := s.plug(model.Op{Kind: model.Plug, Adapter: n}); err != nil {
			return fmt.Errorf("linux: reset: %w", err)
		}
	}
	return nil
}

// unplug deletes the adapter's veth (and with it its peer): the kernel
// removes its addresses and routes as it unregisters the device.
func (s *Stack) unplug(op model.Op, idx uint32) error {
	s.unsettled = false
	if err := s.c.Link.Delete(idx); err != nil {
		return opError(op, err)
	}
	delete(s.index, op.Adapter)
	delete(s.names, idx)
	s.gone[op.Adapter] = idx
	if f := s.ctl[op.Adapter]; f != nil {
		f.Close()
		delete(s.ctl, op.Adapter)
	}
	return nil
}

// plug creates the adapter's veth again with the setup makeAdapters
// gives it: the peer's IPv6 disabled, promote_secondaries written (the
// new device starts from conf.default), both NOARP and up. The kernel
// answers a present adapter with EEXIST. The adapter has a new ifindex.
func (s *Stack) plug(op model.Op) error {
	s.unsettled = false
	name := op.Adapter
	peer := fmt.Sprintf("peer~%d", slices.Index(s.cfg.Adapters, name))
	err := s.c.Link.New(&rtnetlink.LinkMessage{
		Attributes: &rtnetlink.LinkAttributes{
			Name: name,
			Info: &rtnetlink.LinkInfo{Kind: "veth", Data: &driver.Veth{
				PeerInfo: &rtnetlink.LinkMessage{Attributes: &rtnetlink.LinkAttributes{Name: peer}},
			}},
		},
	})
	if err != nil {
		return opError(op, err)
	}
	links, err := s.c.Link.List()
	if err != nil {
		return fmt.Errorf("linux: %s: listing links: %w", op, err)
	}
	var idx, peerIdx uint32
	for _, l := range links {
		if l.Attributes == nil {
			continue
		}
		switch l.Attributes.Name {
		case name:
			idx = l.Index
		case peer:
			peerIdx = l.Index
		}
	}
	if idx == 0 || peerIdx == 0 {
		return fmt.Errorf("linux: %s: created veth %s/%s not found", op, name, peer)
	}
	err = s.ns.do(func() error {
		if err := writeSysctls([]sysctl{{"net/ipv6/conf/" + peer + "/disable_ipv6", "1"}}); err != nil {
			return err
		}
		f, err := os.OpenFile("/proc/sys/net/ipv4/conf/"+name+"/promote_secondaries", os.O_RDWR, 0)
		if err != nil {
			return err
		}
		s.ctl[name] = f
		v := []byte("0\n")
		if s.promote {
			v = []byte("1\n")
		}
		_, err = f.WriteAt(v, 0)
		return err
	})
	if err != nil {
		return fmt.Errorf("linux: %s: %w", op, err)
	}
	for _, i := range []uint32{peerIdx, idx} {
		flags := uint32(unix.IFF_UP | unix.IFF_NOARP)
		if err := s.c.Link.Set(&rtnetlink.LinkMessage{Index: i, Flags: flags, Change: flags}); err != nil {
			return fmt.Errorf("linux: %s: setting link %d up: %w", op, i, err)
		}
	}
	delete(s.gone, name)
	s.peers[name] = peerIdx
	s.index[name] = idx
	s.names[idx] = name
	return nil
}

// setPromote sets promote_secondaries on "all" and on every adapter, and
// reads it back.
func (s *Stack) setPromote(on bool) error {
	if err := s.writePromote(on); err != nil {
		return err
	}
	want := byte('0')
	if on {
		want = '1'
	}
	var b [4]byte
	for n, f := range s.ctl {
		k, err := f.ReadAt(b[:], 0)
		if k == 0 {
			return fmt.Errorf("reading %s promote_secondaries: %w", n, err)
		}
		if b[0] != want {
			return fmt.Errorf("net.ipv4.conf.%s.promote_secondaries is %q, want %c", n, b[:k], want)
		}
	}
	s.promote = on
	return nil
}

// setKeep sets net.ipv6.conf.all.keep_addr_on_down and reads it back. The
// adapters' own values stay 0, so "all" decides (addrconf_ifdown reads
// "all" first, the device's only when "all" is 0).
func (s *Stack) setKeep(on bool) error {
	v := []byte("0\n")
	if on {
		v = []byte("1\n")
	}
	if _, err := s.keepCtl.WriteAt(v, 0); err != nil {
		return fmt.Errorf("setting net.ipv6.conf.all.keep_addr_on_down: %w", err)
	}
	var b [8]byte
	k, err := s.keepCtl.ReadAt(b[:], 0)
	if k == 0 {
		return fmt.Errorf("reading net.ipv6.conf.all.keep_addr_on_down: %w", err)
	}
	if b[0] != v[0] {
		return fmt.Errorf("net.ipv6.conf.all.keep_addr_on_down is %q, want %c", b[:k], v[0])
	}
	return nil
}

func (s *Stack) writePromote(on bool) error {
	v := []byte("0\n")
	if on {
		v = []byte("1\n")
	}
	for n, f := range s.ctl {
		if _, err := f.WriteAt(v, 0); err != nil {
			return fmt.Errorf("setting net.ipv4.conf.%s.promote_secondaries: %w", n, err)
		}
	}
	return nil
}

// flush deletes every address on every adapter.
func (s *Stack) flush() error {
	msgs, err := s.c.Address.List()
	if err != nil {
		return fmt.Errorf("listing addresses: %w", err)
	}
	// Secondaries first, so no deletion promotes or flushes another.
	slices.SortStableFunc(msgs, func(a, b rtnetlink.AddressMessage) int {
		return -int(a.Flags&unix.IFA_F_SECONDARY) + int(b.Flags&unix.IFA_F_SECONDARY)
	})
	for _, m := range msgs {
		if _, ok := s.names[m.Index]; !ok || m.Attributes == nil {
			continue
		}
		del := rtnetlink.AddressMessage{Family: m.Family, PrefixLength: m.PrefixLength, Index: m.Index,
			Attributes: &rtnetlink.AddressAttributes{Address: m.Attributes.Address, Local: m.Attributes.Local}}
		if err := s.c.Address.Delete(&del); err != nil && !errors.Is(err, unix.EADDRNOTAVAIL) {
			return fmt.Errorf("flushing addresses: %w", err)
		}
	}
	// Every adapter up again (an op may have taken it down); with no
	// addresses left, nothing is added asynchronously.
	for _, idx := range s.index {
		if err := s.c.Link.Set(&rtnetlink.LinkMessage{Index: idx, Flags: unix.IFF_UP, Change: unix.IFF_UP}); err != nil {
			return fmt.Errorf("setting link %d up: %w", idx, err)
		}
	}
	// Carrier back on every adapter (an op may have taken a peer down).
	if err := s.peersUp(); err != nil {
		return err
	}
	// Routes that outlive every address: the user's routes (IPv6 ones,
	// and IPv4 ones by an adapter that had no address), and the IPv6
	// prefix routes the kernel leaves behind when two addresses in one
	// prefix have different metrics
	// (corpus/linux-ipv6-prefix-metric-bad.txtar).
	routes, err := s.c.Route.List()
	if err != nil {
		return fmt.Errorf("listing routes: %w", err)
	}
	for i := range routes {
		m := &routes[i]
		if _, ok := s.names[m.Attributes.OutIface]; !ok || s.noise(m) {
			continue
		}
		del := rtnetlink.RouteMessage{Family: m.Family, DstLength: m.DstLength, Table: m.Table, Protocol: m.Protocol,
			Scope: m.Scope, Type: m.Type, Attributes: rtnetlink.RouteAttributes{Dst: m.Attributes.Dst,
				OutIface: m.Attributes.OutIface, Gateway: m.Attributes.Gateway, Priority: m.Attributes.Priority, Table: m.Attributes.Table}}
		if err := s.c.Route.Delete(&del); err != nil && !errors.Is(err, unix.ESRCH) {
			return fmt.Errorf("flushing routes: %w", err)
		}
	}
	return nil
}

// atBaseline checks that no address and no route is left.
func (s *Stack) atBaseline() error {
	rs, err := s.Routes()
	if err != nil {
		return err
	}
	as, err := s.Addrs()
	if err != nil {
		return err
	}
	if len(rs) > 0 || len(as) > 0 {
		return fmt.Errorf("left after reset: routes %q, addresses %v", rs.String(), as)
	}
	return nil
}

// Apply performs op: add, change and del with RTM_NEWADDR and
// RTM_DELADDR, down, up, unplug and plug with RTM_NEWLINK and
// RTM_DELLINK on the adapter, carrier with RTM_NEWLINK on its veth peer,
// route add and route del with RTM_NEWROUTE and RTM_DELROUTE.
func (s *Stack) Apply(op model.Op) error {
	if s.c == nil {
		return errClosed
	}
	if err := op.Validate(); err != nil {
		return err
	}
	idx, ok := s.index[op.Adapter]
	if !ok {
		if !slices.Contains(s.cfg.Adapters, op.Adapter) {
			return &model.OpError{Op: op, Result: model.Invalid, Msg: fmt.Sprintf("no adapter %q (have %s)", op.Adapter, strings.Join(s.cfg.Adapters, ", "))}
		}
		// Unplugged: the request goes to the kernel by the ifindex the
		// adapter had, which is not reused, and the kernel says ENODEV.
		idx = s.gone[op.Adapter]
	}
	if op.Kind.Spec().Routes() {
		s.unsettled = false
		if !ok {
			// The kernel would say ENODEV, ENETUNREACH or ESRCH,
			// depending on the op (docs/routes-semantics.md §2b).
			return &model.OpError{Op: op, Result: model.Invalid, Msg: fmt.Sprintf("%s is unplugged (checked by the harness)", op.Adapter)}
		}
		return s.routeOp(op, idx)
	}
	switch op.Kind {
	case model.Down, model.Up:
		return s.setLink(op, idx)
	case model.Unplug:
		return s.unplug(op, idx)
	case model.Plug:
		return s.plug(op)
	}
	s.unsettled = false
	switch op.Kind {
	case model.Carrier:
		return s.carrier(op, idx)
	case model.Add:
		return s.add(op, idx)
	case model.Change:
		return s.change(op, idx)
	case model.Del:
		body, err := addrRequest(op, idx, false, false)
		if err != nil {
			return fmt.Errorf("linux: %s: %w", op, err)
		}
		if err := s.execAddr(unix.RTM_DELADDR, 0, body); err != nil {
			return opError(op, err)
		}
		return nil
	}
	return &model.OpError{Op: op, Result: model.Invalid, Msg: "unknown operation kind"}
}

// setLink takes an adapter down or up (RTM_NEWLINK changing IFF_UP). After
// up, the kernel re-inserts the local route of every IPv6 address kept
// over down (keep_addr_on_down) from the address's DAD work, after the
// call has returned (addrconf_permanent_addr → addrconf_dad_start); setLink
// waits for each, as an add waits for its own.
func (s *Stack) setLink(op model.Op, idx uint32) error {
	s.unsettled = false
	var flags uint32
	if op.Kind == model.Up {
		flags = unix.IFF_UP
	}
	drained := op.Kind == model.Up && s.events.drain() == nil
	err := s.c.Link.Set(&rtnetlink.LinkMessage{Index: idx, Flags: flags, Change: unix.IFF_UP})
	if err != nil {
		return opError(op, err)
	}
	if op.Kind != model.Up {
		return nil
	}
	missing, err := s.missingLocal6(idx)
	if err != nil {
		return fmt.Errorf("linux: %s: %w", op, err)
	}
	deadline := time.Now().Add(LocalWait)
	for len(missing) > 0 {
		a := missing[0]
		// A notification read while waiting for another address is gone
		// from the socket: look at the table first.
		if in, err := s.hasLocal6(a, idx); err == nil && in {
			missing = missing[1:]
			continue
		}
		if drained && s.events.awaitLocal6(a, idx, deadline) == nil {
			missing = missing[1:]
			continue
		}
		drained = false
		if time.Now().After(deadline) {
			s.unsettled = true
			return nil
		}
		time.Sleep(200 * time.Microsecond)
	}
	return nil
}

// missingLocal6 returns the IPv6 addresses on ifindex idx whose local
// route is not in the table.
func (s *Stack) missingLocal6(idx uint32) ([]netip.Addr, error) {
	msgs, err := s.c.Address.List()
	if err != nil {
		return nil, err
	}
	routes, err := s.c.Route.List()
	if err != nil {
		return nil, err
	}
	have := map[netip.Addr]bool{}
	for i := range routes {
		m := &routes[i]
		if dst, ok := prefix(m.Attributes.Dst, m.DstLength, m.Family); ok && m.Type == unix.RTN_LOCAL && m.Attributes.OutIface == idx {
			have[dst.Addr()] = true
		}
	}
	var out []netip.Addr
	for _, m := range msgs {
		if m.Index != idx || m.Family != unix.AF_INET6 || m.Attributes == nil {
			continue
		}
		if a, ok := netip.AddrFromSlice(m.Attributes.Address); ok && !have[a] {
			out = append(out, a)
		}
	}
	return out, nil
}

// settleLocal6 makes sure the local route of the IPv6 address just added
// is in before Apply returns: it waits for the route's notification, and
// when notifications were lost it polls the table instead. Only when
// neither sees the route by LocalWait does it leave the stack unsettled,
// so that the harness re-reads for Lag before declaring a divergence.
func (s *Stack) settleLocal6(addr netip.Addr, idx uint32, drained bool) {
	deadline := time.Now().Add(LocalWait)
	if drained && s.events.awaitLocal6(addr, idx, deadline) == nil {
		return
	}
	// The notification did not come, or its absence proves nothing:
	// look at the table itself.
	for backoff := 50 * time.Microsecond; ; backoff = min(2*backoff, 10*time.Millisecond) {
		if in, err := s.hasLocal6(addr, idx); err == nil && in {
			return
		}
		if time.Now().After(deadline) {
			s.unsettled = true
			return
		}
		time.Sleep(backoff)
	}
}

// hasLocal6 reports whether the local table holds addr's local route on
// ifindex idx.
func (s *Stack) hasLocal6(addr netip.Addr, idx uint32) (bool, error) {
	msgs, err := s.c.Route.List()
	if err != nil {
		return false, err
	}
	want := netip.PrefixFrom(addr, 128)
	for i := range msgs {
		m := &msgs[i]
		if dst, ok := prefix(m.Attributes.Dst, m.DstLength, m.Family); ok && dst == want &&
			m.Type == unix.RTN_LOCAL && m.Attributes.OutIface == idx {
			return true, nil
		}
	}
	return false, nil
}

// opError maps a kernel error to the op's result, keeping the kernel's
// text: EEXIST is exists, EADDRNOTAVAIL notfound, an errno that says the
// request itself is wrong is invalid, and anything else (the socket, a
// missing device) is a harness error. For the route kinds also: ESRCH is
// notfound, ENETUNREACH (IPv4) and EHOSTUNREACH (IPv6) unreachable (a
// gateway not on link), ENETDOWN netdown. (An EINVAL that refuses a
// route's source is told apart by Stack.badSource.)
func opError(op model.Op, err error) error {
	var errno unix.Errno
	if !errors.As(err, &errno) {
		return fmt.Errorf("linux: %s: %w", op, err)
	}
	msg := kernelText(err, errno)
	if op.Kind.Spec().Routes() {
		switch errno {
		case unix.ESRCH:
			return &model.OpError{Op: op, Result: model.NotFound, Msg: msg}
		case unix.ENETUNREACH, unix.EHOSTUNREACH:
			return &model.OpError{Op: op, Result: model.GatewayUnreachable, Msg: msg}
		case unix.ENETDOWN:
			return &model.OpError{Op: op, Result: model.NetDown, Msg: msg}
		}
	}
	switch errno {
	case unix.EEXIST:
		return &model.OpError{Op: op, Result: model.Exists, Msg: msg}
	case unix.EADDRNOTAVAIL:
		return &model.OpError{Op: op, Result: model.NotFound, Msg: msg}
	case unix.EINVAL, unix.EOPNOTSUPP, unix.ERANGE, unix.EAFNOSUPPORT,
		unix.ENODEV: // an op on an unplugged adapter
		return &model.OpError{Op: op, Result: model.Invalid, Msg: msg}
	}
	return fmt.Errorf("linux: %s: %s: %w", op, msg, err)
}

// kernelText is what an op result says of the kernel's error: "kernel: "
// and the errno's text, then its extended ack message if it has one.
func kernelText(err error, errno unix.Errno) string {
	msg := "kernel: " + errno.Error()
	var oe *netlink.OpError
	if errors.As(err, &oe) && oe.Message != "" {
		msg += ": " + oe.Message
	}
	return msg
}

// Routes dumps every routing table of both families and returns the
// routes on the adapters, less the baseline noise listed in the package
// documentation.
func (s *Stack) Routes() (model.Table, error) {
	if s.c == nil {
		return nil, errClosed
	}
	msgs, err := s.c.Route.List()
	if err != nil {
		return nil, fmt.Errorf("dumping routes: %w", err)
	}
	routes := make([]model.Route, 0, len(msgs))
	for i := range msgs {
		r, keep, err := s.route(&msgs[i])
		if err != nil {
			return nil, err
		}
		if keep {
			routes = append(routes, r)
		}
	}
	return model.SortRoutes(routes), nil // a repeated route is a divergence
}

// route converts one route message. keep is false for baseline noise.
func (s *Stack) route(m *rtnetlink.RouteMessage) (r model.Route, keep bool, err error) {
	a := &m.Attributes
	table := tableOf(m)
	dst, ok := prefix(a.Dst, m.DstLength, m.Family)
	if !ok {
		return r, false, fmt.Errorf("route with a malformed destination: %+v", *m)
	}
	if s.noise(m) {
		return r, false, nil
	}
	r.Dst = dst
	r.Dev, ok = s.names[a.OutIface]
	describe := func() string {
		return fmt.Sprintf("type %d table %d proto %d dst %s oif %d", m.Type, table, m.Protocol, dst, a.OutIface)
	}
	if !ok {
		return r, false, fmt.Errorf("route on a device that is not an adapter: %s", describe())
	}
	switch {
	case m.Type == unix.RTN_UNICAST && table == unix.RT_TABLE_MAIN && m.Protocol == unix.RTPROT_KERNEL:
		r.Kind = model.Connected
	case m.Type == unix.RTN_UNICAST && table == unix.RT_TABLE_MAIN && m.Protocol == unix.RTPROT_BOOT:
		r.Kind, r.Proto = model.Connected, model.ProtoBoot
	case m.Type == unix.RTN_LOCAL && table == unix.RT_TABLE_LOCAL:
		r.Kind = model.Local
	case m.Type == unix.RTN_BROADCAST && table == unix.RT_TABLE_LOCAL:
		r.Kind = model.Broadcast
	default:
		return r, false, fmt.Errorf("route of a kind the model does not know: %s", describe())
	}
	for _, x := range []struct {
		ip   net.IP
		dst  *netip.Addr
		what string
	}{{a.Src, &r.Src, "src"}, {a.Gateway, &r.Via, "gateway"}} {
		if x.ip == nil {
			continue
		}
		ip, ok := netip.AddrFromSlice(x.ip)
		if !ok || ip.Is4() != dst.Addr().Is4() {
			return r, false, fmt.Errorf("route with a malformed %s: %s", x.what, describe())
		}
		*x.dst = ip
	}
	if r.Via.IsValid() && r.Proto != model.ProtoBoot {
		return r, false, fmt.Errorf("kernel route with a gateway: %s", describe())
	}
	r.Metric = a.Priority
	// Only RTNH_F_LINKDOWN is compared; other rtm_flags (RTNH_F_DEAD with
	// ignore_routes_with_linkdown, RTM_F_* offload bits) are not.
	r.Linkdown = m.Flags&unix.RTNH_F_LINKDOWN != 0
	return r, true, nil
}

var multicast6 = netip.MustParsePrefix("ff00::/8")

// noise reports whether m is baseline noise: the IPv6 multicast route
// "multicast ff00::/8 table local" of an adapter that is up.
func (s *Stack) noise(m *rtnetlink.RouteMessage) bool {
	dst, _ := prefix(m.Attributes.Dst, m.DstLength, m.Family)
	return m.Family == unix.AF_INET6 && m.Type == unix.RTN_MULTICAST && tableOf(m) == unix.RT_TABLE_LOCAL && dst == multicast6
}

func tableOf(m *rtnetlink.RouteMessage) uint32 {
	if m.Attributes.Table != 0 {
		return m.Attributes.Table
	}
	return uint32(m.Table)
}

// prefix converts a netlink address and length; a nil address is the
// family's zero address.
func prefix(ip net.IP, bits uint8, family uint8) (netip.Prefix, bool) {
	var a netip.Addr
	switch {
	case ip == nil && family == unix.AF_INET:
		a = netip.IPv4Unspecified()
	case ip == nil && family == unix.AF_INET6:
		a = netip.IPv6Unspecified()
	case family == unix.AF_INET && len(ip) == 4, family == unix.AF_INET6 && len(ip) == 16:
		a, _ = netip.AddrFromSlice(ip)
	default:
		return netip.Prefix{}, false
	}
	p := netip.PrefixFrom(a, int(bits))
	return p, p.IsValid()
}

// Addrs dumps the addresses of both families and returns those on the
// adapters, sorted.
func (s *Stack) Addrs() ([]model.Addr, error) {
	if s.c == nil {
		return nil, errClosed
	}
	msgs, err := s.c.Address.List()
	if err != nil {
		return nil, fmt.Errorf("dumping addresses: %w", err)
	}
	out := make([]model.Addr, 0, len(msgs))
	for _, m := range msgs {
		dev, ok := s.names[m.Index]
		if !ok {
			continue
		}
		if m.Attributes == nil {
			return nil, fmt.Errorf("address message without attributes on %s", dev)
		}
		ip := m.Attributes.Address
		if m.Family == unix.AF_INET && m.Attributes.Local != nil {
			ip = m.Attributes.Local
		}
		p, ok := prefix(ip, m.PrefixLength, m.Family)
		if !ok || ip == nil {
			return nil, fmt.Errorf("malformed address on %s: %+v", dev, *m.Attributes)
		}
		out = append(out, model.Addr{Adapter: dev, Prefix: p})
	}
	slices.SortFunc(out, model.Addr.Compare)
	return out, nil
}
