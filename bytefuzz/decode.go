// Package bytefuzz turns any byte string into a stack configuration and an
// op sequence, through the one op alphabet (model.Alphabet), so that
// byte-driven fuzz engines (libFuzzer through go-118-fuzz-build, as
// ClusterFuzzLite and OSS-Fuzz run Go targets, or go test -fuzz) can
// drive the model and a stack side by side. The fuzz targets are in
// bytefuzz/fuzz; the decoder and the check they run are here, so that
// `go run ./bytefuzz/cmd/decode` turns a saved input into a corpus case.
//
// # Encoding (version 2)
//
// The decoder reads the input one byte at a time; a byte read past the
// end is 0. Nothing is ever rejected: every input decodes to a valid
// configuration and to ops that pass model.Op.Validate, restricted to
// what the stack takes (sut.Limits).
//
// Byte 0, the header (0 when the input is empty):
//
//	bits 0-1  adapters a0…: 2, 3, 1 or 4 (few adapters, so that
//	          adapters share subnets)
//	bit 2     promote_secondaries on
//	bit 3     keep_addr_on_down on
//	bits 4-7  ignored
//
// A setting the stack has only one value of takes that value.
//
// Then ops, while input is left, at most MaxOps. One op:
//
//	K         the kind: Kinds(l)[K % len]: each of the generator's actions
//	          (an OpSpec alone, or the kinds sharing one OpSpec.Draw) is
//	          drawn equally often, the kinds of an action in proportion
//	          to their Share, as props' generator draws them
//	operands  for each of the kind's OpSpec.Operands, in order:
//	  adapter   1 byte A: adapter A % n; A == 255 names "xN", an adapter
//	            that does not exist (an op the stack must refuse)
//	  prefix    2 bytes P, Q: IPv6 when P % 3 == 2 (two in three IPv4),
//	            network (P / 3) % len, host Q % len, length
//	            (Q / len(hosts)) % len, from the small pools below
//	            (internal/pools)
//	  switch    1 byte S: on when S is odd
//	  dst       1 byte D: a route's destination, IPv6 when D % 3 == 2,
//	            (D / 3) % len of the family's route destinations
//	            (pools.V4RouteDsts, V6RouteDsts; the default route first)
//	  via       1 byte G, of the destination's family: none when
//	            G % (1 + n) is 0, else the (G % (1 + n))th of the n
//	            gateways, pools.V4GatewayNets (V6GatewayNets) x
//	            pools.GatewayHosts, network by network
//	  dev       1 byte, as adapter
//	  src       1 byte S, of the destination's family: none when
//	            S % (1 + n) is 0, else the (S % (1 + n))th of the n
//	            addresses of the address pools (V4Nets x V4Hosts, V6Nets
//	            x V6Hosts, network by network, less 0.0.0.0, which is no
//	            unicast address)
//	attrs     when the kind takes attributes, one number V, read as a
//	          little-endian integer of as many bytes as it takes to hold the
//	          product of the sample counts of the kind's leading attributes
//	          (Attr.Leads; 4 x 3 x 3 = 36 today: one byte); then, for each
//	          of them in order: Samples[V % len(Samples)], its With the
//	          same sample, V /= len(Samples). An attribute the stack does
//	          not take is left unset (its part of V is read all the same)
//
// A kind whose ops are about an address that is there (OpSpec.Present:
// del, change) takes, when the adapter byte is below 128 and the model
// has addresses, the first address at or after the drawn one in address
// order (model.Addr.Compare), as the generator does; 128 and over keep
// the drawn address, present or not. A route kind about a route that is
// there (route del) takes, alike, the first of the model's user routes at
// or after the drawn one in route order (model.Route.Compare), whole
// (model.DelOf: destination, gateway, adapter, metric; the metric left
// out when the stack takes none). Both happen after the attributes are
// read.
//
// The pools share a few subnets across adapters, the same address at
// several lengths, the network address itself (internal/pools, the
// generator's too):
//
//	IPv4 networks 10.0.0.0 10.0.1.0 10.1.0.0 0.0.0.0, hosts .1 .2 .3 .0 .255,
//	     lengths 24 16 8 31 32
//	IPv6 networks 2001:db8:0:1:: 2001:db8:0:2:: 2001:db8:1:1::, hosts ::1 ::2
//	     ::3 ::0, lengths 64 48 128 127
//
// A new op kind, operand or attribute in model.Alphabet is decoded
// without touching this decoder, except a new Operand, which needs a
// line in operand (and fails loudly until it has one). Changing the pools,
// the header, the order of reading or the kinds table (a new kind or
// action in the alphabet changes its length, so K % len names other
// kinds) is a new version of the encoding: saved inputs then decode to
// other ops, while saved corpus cases keep their meaning. Each saved case
// records the version it was decoded with (Encoding).
//
// Version 2 (route add and route del in the alphabet): the kinds table
// grew from 40 entries to 100 (the route action, route add 3 to route
// del 1), and the dst, via, dev and src operands were added. A version 1
// input decodes to other kinds from its second op on; decode it with a
// routefuzz of that version (its saved case, not the input, is what
// keeps).
package bytefuzz

import (
	"fmt"
	"net/netip"
	"slices"

	"github.com/routefuzz/routefuzz/internal/pools"
	"github.com/routefuzz/routefuzz/model"
	"github.com/routefuzz/routefuzz/sut"
)

// MaxOps bounds the ops one input decodes to; bytes after them are
// ignored.
const MaxOps = 64

// adapterN are the adapter counts the low two bits of an input's first
// byte choose; the
// address pools are props' (internal/pools), so both draw the same
// addresses.
var adapterN = []int{2, 3, 1, 4}

// Kinds returns the kinds a stack with limits l is driven with, as the
// table K indexes: each action (an OpSpec whose Draw is empty, or all the
// kinds of one Draw) fills the same number of entries, its kinds in
// proportion to their Share (0 counts as 1), in alphabet order.
func Kinds(l sut.Limits) []model.OpKind {
	type action struct {
		kinds  []*model.OpSpec
		shares int
	}
	var actions []*action
	byDraw := map[string]*action{}
	for _, sp := range model.Alphabet {
		if !l.TakesKind(sp.Kind) {
			continue
		}
		a := byDraw[sp.Draw]
		if a == nil || sp.Draw == "" {
			a = &action{}
			actions = append(actions, a)
			if sp.Draw != "" {
				byDraw[sp.Draw] = a
			}
		}
		a.kinds = append(a.kinds, sp)
		a.shares += max(sp.Share, 1)
	}
	// Every action fills total entries, the least common multiple of
	// the actions' shares, so that each kind's count is whole.
	total := 1
	for _, a := range actions {
		total = lcm(total, a.shares)
	}
	var table []model.OpKind
	for _, a := range actions {
		for _, sp := range a.kinds {
			for range max(sp.Share, 1) * total / a.shares {
				table = append(table, sp.Kind)
			}
		}
	}
	return table
}

func lcm(a, b int) int {
	x, y := a, b
	for y != 0 {
		x, y = y, x%y
	}
	return a / x * b
}

// reader reads bytes, 0 past the end.
type reader struct {
	data []byte
	pos  int
}

func (r *reader) more() bool { return r.pos < len(r.data) }

func (r *reader) byte() byte {
	if r.pos >= len(r.data) {
		r.pos++
		return 0
	}
	b := r.data[r.pos]
	r.pos++
	return b
}

// number reads a little-endian integer of as many bytes as it takes to
// hold n values (none for n <= 1).
func (r *reader) number(n uint64) uint64 {
	var v uint64
	for shift, room := 0, uint64(1); room < n && shift < 64; shift, room = shift+8, room<<8 {
		v |= uint64(r.byte()) << shift
		if room > 1<<55 {
			break
		}
	}
	return v
}

// attrCombinations returns the product of the sample counts of the
// attributes of sp that lead.
func attrCombinations(sp *model.OpSpec) uint64 {
	n := uint64(1)
	for _, a := range sp.Attrs {
		if a.Leads() {
			n *= uint64(len(a.Samples))
		}
	}
	return n
}

// Decode returns the configuration and ops data encodes for a stack with
// limits l (see the package documentation). It never fails on data: the
// error says only that the alphabet has an operand the decoder does not
// know, or that l leaves nothing to draw.
func Decode(data []byte, l sut.Limits) (model.Config, []model.Op, error) {
	kinds := Kinds(l)
	if len(kinds) == 0 {
		return model.Config{}, nil, fmt.Errorf("bytefuzz: the stack takes no op kind of the alphabet")
	}
	if !l.IPv4 && !l.IPv6 {
		return model.Config{}, nil, fmt.Errorf("bytefuzz: the stack takes neither IPv4 nor IPv6")
	}
	r := &reader{data: data}
	h := r.byte()
	cfg := model.Config{
		Adapters:       make([]string, adapterN[h&3]),
		Promote:        setting(h&4 != 0, l.Promote),
		KeepAddrOnDown: setting(h&8 != 0, l.KeepAddrOnDown),
	}
	for i := range cfg.Adapters {
		cfg.Adapters[i] = fmt.Sprintf("a%d", i)
	}
	st, err := model.New(cfg)
	if err != nil {
		return model.Config{}, nil, fmt.Errorf("bytefuzz: decoded configuration %s: %w", cfg, err)
	}
	var ops []model.Op
	for r.more() && len(ops) < MaxOps {
		sp := kinds[int(r.byte())%len(kinds)].Spec()
		op := model.Op{Kind: sp.Kind}
		odd := false
		for _, x := range sp.Operands {
			if err := operand(r, x, &op, cfg.Adapters, l, &odd); err != nil {
				return model.Config{}, nil, err
			}
		}
		v := r.number(attrCombinations(sp))
		for _, a := range sp.Attrs {
			if !a.Leads() {
				continue
			}
			i := int(v % uint64(len(a.Samples)))
			v /= uint64(len(a.Samples))
			if !l.Takes(a) || a.With != nil && !l.Takes(a.With) {
				continue
			}
			a.Set(&op, a.Samples[i])
			if a.With != nil {
				a.With.Set(&op, a.With.Samples[i])
			}
		}
		if sp.Present && !odd {
			op = present(op, st, l)
		}
		if err := op.Validate(); err != nil {
			// The pools and samples are valid by construction; an op
			// that is not means the alphabet changed under the decoder.
			return model.Config{}, nil, fmt.Errorf("bytefuzz: decoded op %d (%s) is invalid: %w", len(ops)+1, op, err)
		}
		ops = append(ops, op)
		st.Apply(op) // its result does not matter: only what is present
	}
	return cfg, ops, nil
}

// setting returns want, or the one value a stack has (vals).
func setting(want bool, vals []bool) bool {
	if len(vals) > 0 && !slices.Contains(vals, want) {
		return vals[0]
	}
	return want
}

// operand reads operand x into op. odd is set when the adapter byte asks
// for the drawn address as it is (128 and over).
func operand(r *reader, x model.Operand, op *model.Op, adapters []string, l sut.Limits, odd *bool) error {
	switch x {
	case model.AdapterOperand:
		a := r.byte()
		*odd = a >= 128
		if a == 255 {
			op.Adapter = fmt.Sprintf("x%d", len(adapters))
		} else {
			op.Adapter = adapters[int(a)%len(adapters)]
		}
	case model.PrefixOperand, model.HostOperand:
		p, q := int(r.byte()), int(r.byte())
		if family6(p, l) {
			b := pools.V6Nets[p/3%len(pools.V6Nets)].As16()
			b[15] = pools.V6Hosts[q%len(pools.V6Hosts)]
			op.Prefix = netip.PrefixFrom(netip.AddrFrom16(b), pools.V6Lengths[q/len(pools.V6Hosts)%len(pools.V6Lengths)])
		} else {
			b := pools.V4Nets[p/3%len(pools.V4Nets)].As4()
			b[3] = pools.V4Hosts[q%len(pools.V4Hosts)]
			op.Prefix = netip.PrefixFrom(netip.AddrFrom4(b), pools.V4Lengths[q/len(pools.V4Hosts)%len(pools.V4Lengths)])
		}
		if x == model.HostOperand {
			op.Prefix = netip.PrefixFrom(op.Prefix.Addr(), op.Prefix.Addr().BitLen())
		}
	case model.SwitchOperand:
		op.On = r.byte()&1 == 1
	case model.DstOperand:
		d := int(r.byte())
		dsts := pools.V4RouteDsts
		if family6(d, l) {
			dsts = pools.V6RouteDsts
		}
		op.Prefix = dsts[d/3%len(dsts)]
	case model.ViaOperand:
		// The gateway is of the destination's family, decoded before.
		op.Via = pick(r.byte(), gateways(op.Prefix.Addr().Is6()))
	case model.DevOperand:
		return operand(r, model.AdapterOperand, op, adapters, l, odd)
	case model.SrcOperand:
		op.Src = pick(r.byte(), sources(op.Prefix.Addr().Is6()))
	default:
		return fmt.Errorf("bytefuzz: the alphabet has operand %d, which bytefuzz/decode.go does not decode: add it to operand", x)
	}
	return nil
}

// family6 reports whether a prefix or destination byte b asks for IPv6
// (b % 3 == 2, two in three IPv4), or the one family a stack with limits
// l takes.
func family6(b int, l sut.Limits) bool {
	switch {
	case !l.IPv4:
		return true
	case !l.IPv6:
		return false
	}
	return b%3 == 2
}

// pick returns the optional address byte b names among as: none (the
// zero Addr) when b % (1 + len(as)) is 0, else as[b%(1+len(as))-1].
func pick(b byte, as []netip.Addr) netip.Addr {
	i := int(b) % (1 + len(as))
	if i == 0 {
		return netip.Addr{}
	}
	return as[i-1]
}

// The gateways and sources of each family (IPv4 first), built from the
// pools once.
var (
	gateways4, gateways6 = hosts(pools.V4GatewayNets, pools.GatewayHosts), hosts(pools.V6GatewayNets, pools.GatewayHosts)
	sources4, sources6   = hosts(pools.V4Nets, pools.V4Hosts), hosts(pools.V6Nets, pools.V6Hosts)
)

func gateways(v6 bool) []netip.Addr {
	if v6 {
		return gateways6
	}
	return gateways4
}

func sources(v6 bool) []netip.Addr {
	if v6 {
		return sources6
	}
	return sources4
}

// hosts returns every network of nets with its last byte set to each of
// lasts, network by network, leaving out what is no unicast address (the
// pools' 0.0.0.0, which an address may be but a gateway or a source may
// not): the addresses a gateway or a source is decoded from.
func hosts(nets []netip.Addr, lasts []byte) []netip.Addr {
	var as []netip.Addr
	for _, n := range nets {
		for _, h := range lasts {
			b := n.AsSlice()
			b[len(b)-1] = h
			a, _ := netip.AddrFromSlice(b)
			if a.IsGlobalUnicast() {
				as = append(as, a)
			}
		}
	}
	return as
}

// present returns op on the first present address, or user's route, at
// or after its own, in address (route) order, or op as it is when nothing
// is present. A route op takes the whole route (model.DelOf): its
// destination, gateway, adapter and metric.
func present(op model.Op, st *model.State, l sut.Limits) model.Op {
	if op.Kind.Spec().Routes() {
		return presentRoute(op, st, l)
	}
	addrs := st.Addrs()
	if len(addrs) == 0 {
		return op
	}
	want := model.Addr{Adapter: op.Adapter, Prefix: op.Prefix}
	i, _ := slices.BinarySearchFunc(addrs, want, model.Addr.Compare)
	a := addrs[i%len(addrs)]
	sp := op.Kind.Spec()
	if sp.TakesAdapter() {
		op.Adapter = a.Adapter
	}
	if sp.Has(model.PrefixOperand) {
		op.Prefix = a.Prefix
	}
	return op
}

// presentRoute is present for a route op: the first of the model's user
// routes at or after the route op would name, in route order (Route.Compare).
// An attribute the stack does not take is left out: the metric of an
// IPv6 route added without one, which the model shows as
// model.IPv6RouteMetric and a metric 0 names as well.
func presentRoute(op model.Op, st *model.State, l sut.Limits) model.Op {
	rs := model.SortRoutes(st.UserRoutes())
	if len(rs) == 0 {
		return op
	}
	want := model.Route{Kind: model.Connected, Dst: op.Prefix, Via: op.Via, Dev: op.Adapter, Proto: model.ProtoBoot, Metric: op.Metric}
	i, _ := slices.BinarySearchFunc(rs, want, model.Route.Compare)
	del := model.DelOf(rs[i%len(rs)]).As(op.Kind)
	for _, a := range model.Attrs() {
		if !l.Takes(a) {
			a.Set(&del, 0)
		}
	}
	return del
}
