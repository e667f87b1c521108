// Package gvisor drives gVisor's netstack (gvisor.dev/gvisor/pkg/tcpip/stack),
// the user-space TCP/IP stack inside gVisor, wireguard-go and Tailscale, in
// process: each adapter is a NIC over a channel endpoint, with the IPv4 and
// IPv6 network protocols.
//
// Ops map to the stack's own API, with nothing added:
//
//	add a0 P          AddProtocolAddress(nic, P, AddressProperties{})
//	del a0 P          RemoveAddress(nic, P.Addr())  (the length is not asked)
//	down a0 / up a0   DisableNIC / EnableNIC
//	unplug a0         RemoveNIC
//	plug a0           CreateNICWithOptions(nic, a new channel endpoint)
//	route add ...     AddRoute(tcpip.Route{Destination, Gateway, NIC, SourceHint})
//	route del ...     RemoveRoutes(same Destination, Gateway and NIC)
//
// gVisor's route table is the user's: an address brings no route with it.
// Mode Sentry adds what gVisor's own netlink layer adds around the two
// address calls (pkg/sentry/socket/netstack/stack.go, AddInterfaceAddr and
// RemoveInterfaceAddr): a route to the address's subnet by its NIC when
// none is there, and the removal of that route when an address is
// removed.
//
// Lookups are FindRoute(0, "", dst, proto): the outgoing NIC, the gateway
// (NextHop) and the source (LocalAddress). Hold keeps the route of a
// lookup, as an open connection does, until Reset; it is part of this
// stack's alphabet (see docs/gvisor.md).
package gvisor

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/faketime"
	"gvisor.dev/gvisor/pkg/tcpip/link/channel"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv6"
	"gvisor.dev/gvisor/pkg/tcpip/stack"

	"github.com/routefuzz/routefuzz/model"
	"github.com/routefuzz/routefuzz/sut"
)

// Mode says what the stack does around gVisor's address calls.
type Mode uint8

const (
	// Raw calls the netstack API alone: no address brings a route.
	Raw Mode = iota
	// Sentry adds and removes subnet routes as gVisor's sentry does for
	// `ip addr add` and `ip addr del` (inet.Stack.AddInterfaceAddr,
	// RemoveInterfaceAddr).
	Sentry
	// Connected is Sentry with its bug fixed: del removes the subnet
	// route only when no other address of the NIC is in that subnet.
	// It lets a hunt go past the bug (docs/gvisor.md).
	Connected
)

// String returns "raw", "sentry" or "connected".
func (m Mode) String() string {
	switch m {
	case Sentry:
		return "sentry"
	case Connected:
		return "connected"
	}
	return "raw"
}

// Stack is gVisor's netstack under test. The zero Stack is not usable:
// call New, then Reset.
type Stack struct {
	// HoldLookups makes every lookup hold its route until Reset, as if
	// a connection were opened to every destination looked up: the
	// alphabet's hold op, applied by the harness's own probes, until
	// the model has a hold kind (docs/gvisor.md).
	HoldLookups bool

	mode     Mode
	s        *stack.Stack
	adapters []string
	ids      map[string]tcpip.NICID
	names    map[tcpip.NICID]string
	held     []*stack.Route
}

// New returns a stack in mode m, with no adapters until Reset.
func New(m Mode) *Stack { return &Stack{mode: m} }

var (
	_ sut.BatchLooker = (*Stack)(nil)
	_ sut.Limiter     = (*Stack)(nil)
)

// ErrGVisor is wrapped by every error that is gVisor's answer outside the
// op's semantics (a harness failure).
var ErrGVisor = errors.New("gvisor")

// Limits: both families; no address or route attributes (gVisor's
// routes have no metric, its addresses no flags; lifetimes are
// informational); no carrier (a channel endpoint has no link state),
// no change. Every address is independent of the others (an IPv4
// address is no one's secondary: promotion on), and down keeps every
// address (keep_addr_on_down on). The table gVisor keeps is the user's
// and has no local, broadcast or connected routes, so "routes" is not
// compared: lookups and addresses are.
func (s *Stack) Limits() sut.Limits {
	return sut.Limits{
		IPv4: true, IPv6: true,
		Promote:        []bool{true},
		KeepAddrOnDown: []bool{true},
		Ops: []model.OpKind{model.Add, model.Del, model.Down, model.Up, model.Unplug, model.Plug,
			model.RouteAdd, model.RouteDel, model.Hold},
		Observables: []string{"addresses", "lookups"},
	}
}

// Reset makes a new netstack with one enabled NIC per adapter, NIC i+1
// for adapter i. Timers never fire (a manual clock): no DAD, no router
// solicitation, nothing that changes with time.
func (s *Stack) Reset(cfg model.Config) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	if !cfg.Promote || !cfg.KeepAddrOnDown {
		return fmt.Errorf("gvisor: %s: %w (it takes promote=on keep_addr_on_down=on only)", cfg, sut.ErrUnsupported)
	}
	s.Close()
	s.s = stack.New(stack.Options{
		NetworkProtocols: []stack.NetworkProtocolFactory{
			ipv4.NewProtocol,
			ipv6.NewProtocolWithOptions(ipv6.Options{}), // no DAD, no NDP, no SLAAC
		},
		Clock:       faketime.NewManualClock(),
		HandleLocal: true,
	})
	s.adapters = slices.Clone(cfg.Adapters)
	s.ids = make(map[string]tcpip.NICID, len(cfg.Adapters))
	s.names = make(map[tcpip.NICID]string, len(cfg.Adapters))
	for i, a := range cfg.Adapters {
		id := tcpip.NICID(i + 1)
		s.ids[a], s.names[id] = id, a
		if err := s.plug(a); err != nil {
			return fmt.Errorf("%w: reset: creating NIC %d for %s: %s", ErrGVisor, id, a, err)
		}
	}
	return nil
}

func (s *Stack) plug(a string) tcpip.Error {
	id := s.ids[a]
	mac := tcpip.LinkAddress([]byte{2, 0, 0, 0, 0, byte(id)})
	return s.s.CreateNICWithOptions(id, channel.New(16, 1500, mac), stack.NICOptions{Name: a})
}

// Apply performs op through gVisor's API and maps its answer
// (Result).
func (s *Stack) Apply(op model.Op) error {
	if s.s == nil {
		return fmt.Errorf("gvisor: %s: not reset", op)
	}
	if err := op.Validate(); err != nil {
		return err
	}
	op = DefaultMetric(op)
	if why := s.Limits().Unsupported(op); why != "" {
		return fmt.Errorf("gvisor: %s: %s: %w", op, why, sut.ErrUnsupported)
	}
	if op.Kind == model.Hold {
		// Hold keeps the route an open connection would (nothing when
		// the address is unreachable).
		_, err := s.Hold(op.Prefix.Addr())
		return err
	}
	id, ok := s.ids[op.Adapter]
	if !ok {
		return &model.OpError{Op: op, Result: model.Invalid, Msg: "unknown adapter " + op.Adapter}
	}
	if op.Kind == model.RouteDel {
		want := tcpipRoute(op, id)
		n := s.s.RemoveRoutes(func(r tcpip.Route) bool {
			return r.Destination == want.Destination && r.Gateway == want.Gateway && r.NIC == want.NIC
		})
		if n == 0 {
			return &model.OpError{Op: op, Result: model.NotFound, Msg: "gvisor: RemoveRoutes removed no route"}
		}
		return nil
	}
	return Result(op, s.apply(op, id))
}

// DefaultMetric returns op without its metric when op is a route op whose
// metric is its family's default (model.IPv6RouteMetric for IPv6, 0 for
// IPv4), which means what no metric means: the generator's route del of
// a present IPv6 route (model.DelOf) names it. Any other metric is
// unsupported: gVisor's routes have none.
func DefaultMetric(op model.Op) model.Op {
	if (op.Kind == model.RouteAdd || op.Kind == model.RouteDel) && op.Prefix.Addr().Is6() && op.Metric == model.IPv6RouteMetric {
		op.Metric = 0
	}
	return op
}

func (s *Stack) apply(op model.Op, id tcpip.NICID) tcpip.Error {
	switch op.Kind {
	case model.Add:
		pa := protocolAddress(op.Prefix)
		if err := s.s.AddProtocolAddress(id, pa, stack.AddressProperties{}); err != nil {
			return err
		}
		if s.mode != Raw {
			s.addSubnetRoute(id, pa)
		}
	case model.Del:
		pa := protocolAddress(op.Prefix)
		if err := s.s.RemoveAddress(id, pa.AddressWithPrefix.Address); err != nil {
			return err
		}
		if s.mode == Sentry || s.mode == Connected && !s.subnetHeld(id, pa) {
			local := tcpip.Route{Destination: pa.AddressWithPrefix.Subnet(), NIC: id}
			s.s.RemoveRoutes(func(r tcpip.Route) bool { return r.Equal(local) })
		}
	case model.Down:
		return s.s.DisableNIC(id)
	case model.Up:
		return s.s.EnableNIC(id)
	case model.Unplug:
		return s.s.RemoveNIC(id)
	case model.Plug:
		return s.plug(op.Adapter)
	case model.RouteAdd:
		s.s.AddRoute(tcpipRoute(op, id))
	default:
		return &tcpip.ErrNotSupported{}
	}
	return nil
}

// subnetHeld reports whether an address of NIC id (pa removed) is in
// pa's subnet.
func (s *Stack) subnetHeld(id tcpip.NICID, pa tcpip.ProtocolAddress) bool {
	sub := pa.AddressWithPrefix.Subnet()
	for _, a := range s.s.AllAddresses()[id] {
		if a.AddressWithPrefix.Subnet() == sub {
			return true
		}
	}
	return false
}

// addSubnetRoute is AddInterfaceAddr's route: the address's subnet by
// its NIC, unless a route of that destination and NIC is there
// (tcpip.Route.Equal compares those two only).
func (s *Stack) addSubnetRoute(id tcpip.NICID, pa tcpip.ProtocolAddress) {
	local := tcpip.Route{Destination: pa.AddressWithPrefix.Subnet(), NIC: id}
	for _, r := range s.s.GetRouteTable() {
		if r.Equal(local) {
			return
		}
	}
	s.s.AddRoute(local)
}

// Result maps gVisor's answer to op to the model's result (route del,
// whose RemoveRoutes answers a count, gives notfound for 0): nil; an
// *model.OpError for the answers that are results; or an error wrapping
// ErrGVisor (a harness failure) for the others.
//
//	ErrDuplicateAddress (add)        exists
//	ErrDuplicateNICID (plug)         exists
//	ErrBadLocalAddress (del)         notfound
//	ErrUnknownNICID                  invalid
//	ErrInvalidNICID                  invalid
func Result(op model.Op, err tcpip.Error) error {
	var r model.Result
	switch err.(type) {
	case nil:
		return nil
	case *tcpip.ErrDuplicateAddress, *tcpip.ErrDuplicateNICID:
		r = model.Exists
	case *tcpip.ErrBadLocalAddress:
		r = model.NotFound
	case *tcpip.ErrUnknownNICID, *tcpip.ErrInvalidNICID:
		r = model.Invalid
	default:
		return fmt.Errorf("%w: %s: %s (%T)", ErrGVisor, op, err, err)
	}
	return &model.OpError{Op: op, Result: r, Msg: "gvisor: " + err.String()}
}

func protocolAddress(p netip.Prefix) tcpip.ProtocolAddress {
	return tcpip.ProtocolAddress{
		Protocol:          proto(p.Addr()),
		AddressWithPrefix: tcpip.AddressWithPrefix{Address: addr(p.Addr()), PrefixLen: p.Bits()},
	}
}

func tcpipRoute(op model.Op, id tcpip.NICID) tcpip.Route {
	r := tcpip.Route{Destination: subnet(op.Prefix), NIC: id}
	if op.Via.IsValid() {
		r.Gateway = addr(op.Via)
	}
	if op.Src.IsValid() {
		r.SourceHint = addr(op.Src)
	}
	return r
}

func proto(a netip.Addr) tcpip.NetworkProtocolNumber {
	if a.Is4() {
		return ipv4.ProtocolNumber
	}
	return ipv6.ProtocolNumber
}

func addr(a netip.Addr) tcpip.Address { return tcpip.AddrFromSlice(a.AsSlice()) }

func subnet(p netip.Prefix) tcpip.Subnet {
	return tcpip.AddressWithPrefix{Address: addr(p.Masked().Addr()), PrefixLen: p.Bits()}.Subnet()
}

func fromTCPIP(a tcpip.Address) netip.Addr {
	if a.BitLen() == 0 {
		return netip.Addr{}
	}
	x, _ := netip.AddrFromSlice(a.AsSlice())
	return x
}

// Routes is never called (Limits.Observables leaves it out): gVisor
// keeps no kernel-style table.
func (s *Stack) Routes() (model.Table, error) {
	return model.Table{}, fmt.Errorf("gvisor: %w: no kernel-style route table", sut.ErrUnsupported)
}

// Table returns gVisor's own route table (GetRouteTable), in its order
// (longest prefix first, then insertion), as "DST [via G] dev A [src S]".
func (s *Stack) Table() []string {
	var out []string
	for _, r := range s.s.GetRouteTable() {
		line := r.Destination.String()
		if r.Gateway.BitLen() > 0 {
			line += " via " + r.Gateway.String()
		}
		line += " dev " + s.name(r.NIC)
		if r.SourceHint.BitLen() > 0 {
			line += " src " + r.SourceHint.String()
		}
		out = append(out, line)
	}
	return out
}

func (s *Stack) name(id tcpip.NICID) string {
	if n, ok := s.names[id]; ok {
		return n
	}
	return fmt.Sprintf("nic%d", id)
}

// limitedBroadcast is the address an enabled IPv4 endpoint adds to
// itself to receive broadcasts (network/ipv4/ipv4.go, endpoint.Enable:
// AddAndAcquirePermanentAddress(ipv4BroadcastAddr, NeverPrimaryEndpoint))
// and removes on Disable; AllAddresses lists it with the user's.
var limitedBroadcast = netip.MustParsePrefix("255.255.255.255/32")

// Addrs returns every permanent address of every NIC (AllAddresses),
// sorted, less the limited broadcast address that IPv4 adds itself.
func (s *Stack) Addrs() ([]model.Addr, error) {
	var out []model.Addr
	for id, pas := range s.s.AllAddresses() {
		for _, pa := range pas {
			p := netip.PrefixFrom(fromTCPIP(pa.AddressWithPrefix.Address), pa.AddressWithPrefix.PrefixLen)
			if p == limitedBroadcast {
				continue
			}
			out = append(out, model.Addr{Adapter: s.name(id), Prefix: p})
		}
	}
	slices.SortFunc(out, model.Addr.Compare)
	return out, nil
}

// Lookup answers a lookup of dst from FindRoute with no NIC and no local
// address: unreachable on an error, local for a route that loops back,
// broadcast for one that goes out as a broadcast, else unicast by the
// outgoing NIC, through the gateway if any, from the source gVisor
// chose.
func (s *Stack) Lookup(dst netip.Addr) (model.LookupResult, error) {
	r, err := s.s.FindRoute(0, tcpip.Address{}, addr(dst), proto(dst), false)
	if err != nil {
		switch err.(type) {
		case *tcpip.ErrNetworkUnreachable, *tcpip.ErrHostUnreachable, *tcpip.ErrBadLocalAddress:
			return model.LookupResult{Dst: dst, Hop: model.Hop{Kind: model.Unreachable}}, nil
		}
		return model.LookupResult{}, fmt.Errorf("%w: FindRoute %s: %s (%T)", ErrGVisor, dst, err, err)
	}
	if s.HoldLookups {
		s.held = append(s.held, r)
	} else {
		defer r.Release()
	}
	return model.LookupResult{Dst: dst, Hop: hopOf(r, s.name(r.OutgoingNIC()))}, nil
}

func hopOf(r *stack.Route, dev string) model.Hop {
	src := fromTCPIP(r.LocalAddress())
	switch {
	case r.Loop()&stack.PacketLoop != 0 && r.Loop()&stack.PacketOut == 0:
		return model.Hop{Kind: model.ToLocal, Src: src}
	case r.IsOutboundBroadcast():
		return model.Hop{Kind: model.ToBroadcast, Dev: dev, Src: src}
	}
	return model.Hop{Kind: model.ToUnicast, Dev: dev, Via: fromTCPIP(r.NextHop()), Src: src}
}

// LookupAll answers the lookups of dsts in order.
func (s *Stack) LookupAll(dsts []netip.Addr) ([]model.LookupResult, error) {
	out := make([]model.LookupResult, len(dsts))
	for i, d := range dsts {
		l, err := s.Lookup(d)
		if err != nil {
			return nil, err
		}
		out[i] = l
	}
	return out, nil
}

// Hold finds the route to dst as Lookup does and keeps it, with the
// reference it holds on its source address, until Reset or Close: what
// an open connection does. It returns the hop held, or Unreachable
// (nothing held).
func (s *Stack) Hold(dst netip.Addr) (model.Hop, error) {
	r, err := s.s.FindRoute(0, tcpip.Address{}, addr(dst), proto(dst), false)
	if err != nil {
		return model.Hop{Kind: model.Unreachable}, nil
	}
	s.held = append(s.held, r)
	return hopOf(r, s.name(r.OutgoingNIC())), nil
}

// ReleaseAll releases every route Hold kept.
func (s *Stack) ReleaseAll() {
	for _, r := range s.held {
		r.Release()
	}
	s.held = nil
}

// Close releases the held routes and destroys the netstack. It is safe
// to call twice.
func (s *Stack) Close() error {
	s.ReleaseAll()
	if s.s != nil {
		s.s.Close()
		s.s.Wait()
		s.s = nil
	}
	return nil
}

// NotApplying declares the relations (package relations) that do not
// apply to the stack by design: in mode Raw an address brings no route
// (stack.go:792, AddRoute is the only way in), so no neighbour is
// reachable and reachability does not apply (docs/gvisor.md).
func (s *Stack) NotApplying() []string {
	if s.mode == Raw {
		return []string{"reachability"}
	}
	return nil
}
