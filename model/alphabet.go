package model

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
)

// The op alphabet: every kind of operation routefuzz knows is one OpSpec
// in Alphabet, and everything that is not a kind's semantics is driven by
// that entry: the grammar (ParseOp, Op.String), what makes an op well
// formed (Op.Validate), the protocol capability by which a program says it
// takes the kind (sut.Limits, the hello's ops=), how the generator draws
// it, how the minimizer simplifies it and whether a corpus case can run on
// a stack. What an op does is the model's (State.Apply) and each stack's.
//
// Adding a kind is adding its constant and its entry here, its semantics
// to State.Check and State.Apply, and its effect to each stack's Apply.

// OpKind names a kind of operation; it is the position of its entry in
// Alphabet, from 1. The zero OpKind is invalid.
type OpKind uint8

const (
	// Add assigns an address to an adapter.
	Add OpKind = iota + 1
	// Del removes an address from an adapter.
	Del
	// Down takes an adapter administratively down (ip link set ADAPTER down).
	Down
	// Up brings an adapter administratively up (ip link set ADAPTER up).
	Up
	// Unplug removes an adapter, with its addresses and routes (on the
	// kernel: ip link del ADAPTER). Every op on it but plug is invalid
	// until it is plugged again.
	Unplug
	// Plug brings an unplugged adapter back: up, with carrier, and no
	// addresses (on the kernel: the veth created again, as Reset makes it).
	Plug
	// Change replaces the metric, noprefixroute flag and lifetimes of an
	// address that is on the adapter (ip addr change).
	Change
	// Carrier sets whether the adapter has carrier (Op.On): a cable
	// pulled or put back (on the kernel: the veth's peer down or up).
	Carrier
	// RouteAdd adds a user's route to the main table (ip route add):
	// to Op.Prefix, by adapter Op.Adapter, through gateway Op.Via if
	// given, with preferred source Op.Src if given and metric Op.Metric.
	RouteAdd
	// RouteDel deletes the user's route that a RouteAdd with the same
	// destination, gateway, adapter and metric made (ip route del, with
	// nothing left to the kernel's wildcards).
	RouteDel
	// Hold keeps the route to the address Op.Prefix.Addr() in use until
	// the stack is reset, as a connected socket does (gVisor's
	// *stack.Route, with its reference on the source address; a UDP
	// socket's connect(2) on Linux, which sends nothing). It changes
	// nothing a correct stack shows: its result is ok and every
	// observable stays as it was. Only a stack that declares it is sent
	// one (OpSpec.Declared).
	Hold
)

// An Operand is a positional argument of an op, after its verb.
type Operand uint8

const (
	// AdapterOperand is the adapter's name (Op.Adapter).
	AdapterOperand Operand = iota + 1
	// PrefixOperand is ADDRESS/LENGTH, host bits kept (Op.Prefix).
	PrefixOperand
	// SwitchOperand is "on" or "off" (Op.On).
	SwitchOperand
	// DstOperand is a route's destination: a prefix with no host bits,
	// or "default" (Op.Prefix). "default" is 0.0.0.0/0, or ::/0 when
	// the op's gateway or source is IPv6; ops print ::/0 as "default"
	// only when they can say so.
	DstOperand
	// ViaOperand is a route's gateway, written "via GATEWAY"; it may be
	// left out (Op.Via, the zero Addr).
	ViaOperand
	// DevOperand is a route's adapter, written "dev ADAPTER" (Op.Adapter).
	DevOperand
	// SrcOperand is a route's preferred source address, written "src
	// ADDRESS"; it may be left out (Op.Src, the zero Addr).
	SrcOperand
	// HostOperand is an address written without a length (Op.Prefix, a
	// /32 or /128).
	HostOperand
)

// Keyword returns the word that introduces the operand ("via", "dev",
// "src"), or "" for an operand written alone.
func (x Operand) Keyword() string {
	switch x {
	case ViaOperand:
		return "via"
	case DevOperand:
		return "dev"
	case SrcOperand:
		return "src"
	}
	return ""
}

// Optional reports whether the operand may be left out.
func (x Operand) Optional() bool { return x == ViaOperand || x == SrcOperand }

// usage returns the operand as a usage message writes it.
func (x Operand) usage() string {
	var u string
	switch x {
	case AdapterOperand, DevOperand:
		u = "ADAPTER"
	case SwitchOperand:
		return "on|off"
	case DstOperand:
		return "DST"
	case ViaOperand:
		u = "GATEWAY"
	case SrcOperand:
		u = "ADDRESS"
	case HostOperand:
		return "ADDRESS"
	default:
		return "ADDRESS/LENGTH"
	}
	if k := x.Keyword(); k != "" {
		u = k + " " + u
	}
	if x.Optional() {
		u = "[" + u + "]"
	}
	return u
}

// noun returns what the operand is, for "unexpected ... after the address".
func (x Operand) noun() string {
	switch x {
	case AdapterOperand, DevOperand:
		return "adapter"
	case SwitchOperand:
		return "on or off"
	case DstOperand:
		return "destination"
	case ViaOperand:
		return "gateway"
	case SrcOperand:
		return "source"
	}
	return "address"
}

// An Attr is an optional attribute of an op, written after its operands:
// its name and a number from 0 to 4294967295 ("metric 100"), or its name
// alone for a flag ("noprefixroute"). Zero means absent and is not
// written; a flag set is 1. Attrs are compared by pointer.
type Attr struct {
	// Name is the word that introduces it: "metric".
	Name string
	// Flag says the attribute is written as its name alone.
	Flag bool
	// Capability is the hello capability by which a program says it
	// takes the attribute ("metrics=1"); without it, it is never sent.
	// Attributes that go together share one.
	Capability string
	// Get returns the attribute's value in an op; Set sets it.
	Get func(Op) uint32
	Set func(*Op, uint32)
	// With is the attribute that is set exactly when this one is and is
	// written right after it (valid_lft's is preferred_lft). The
	// generator draws the two together, With's value being its
	// Samples[i] when this one's is Samples[i]; the minimizer drops
	// them together.
	With *Attr
	// Rule, if not nil, says what is wrong with the attribute's value in
	// a well-formed op, or "" when nothing is. It sees the whole op.
	Rule func(Op) string
	// Samples are the values the generator draws, the simplest first.
	// The minimizer simplifies any value toward zero, then drops it.
	Samples []uint32
}

// MinLifetime is the shortest lifetime an op may give an address: one
// that could expire during a run would make its tables depend on time.
const MinLifetime = 300

// The attributes of the ops that configure an address (add, change).
var (
	// MetricAttr is the address metric (IFA_RT_PRIORITY), Op.Metric.
	MetricAttr = &Attr{
		Name:       "metric",
		Capability: "metrics",
		Get:        func(o Op) uint32 { return o.Metric },
		Set:        func(o *Op, v uint32) { o.Metric = v },
		Samples:    []uint32{0, 100, 200, 0},
	}
	// NoPrefixRouteAttr is the noprefixroute flag (IFA_F_NOPREFIXROUTE),
	// Op.NoPrefixRoute: the address gets no prefix route.
	NoPrefixRouteAttr = &Attr{
		Name:       "noprefixroute",
		Flag:       true,
		Capability: "noprefixroute",
		Get:        func(o Op) uint32 { return b2u(o.NoPrefixRoute) },
		Set:        func(o *Op, v uint32) { o.NoPrefixRoute = v != 0 },
		Samples:    []uint32{0, 0, 1},
	}
	// ValidLftAttr is the address's valid lifetime in seconds,
	// Op.ValidLft; with PreferredLftAttr it makes the address
	// non-permanent (the kernel clears IFA_F_PERMANENT), as DHCP and
	// SLAAC addresses are.
	ValidLftAttr = &Attr{
		Name:       "valid_lft",
		Capability: "lifetimes",
		Get:        func(o Op) uint32 { return o.ValidLft },
		Set:        func(o *Op, v uint32) { o.ValidLft = v },
		With:       PreferredLftAttr,
		Rule:       lifetimeRule,
		Samples:    []uint32{0, 0, 600},
	}
	// PreferredLftAttr is the address's preferred lifetime in seconds,
	// Op.PreferredLft. It comes with ValidLftAttr.
	PreferredLftAttr = &Attr{
		Name:       "preferred_lft",
		Capability: "lifetimes",
		Get:        func(o Op) uint32 { return o.PreferredLft },
		Set:        func(o *Op, v uint32) { o.PreferredLft = v },
		Samples:    []uint32{0, 0, 300},
	}
)

// lifetimeRule is the rule of valid_lft and preferred_lft: at least
// MinLifetime, preferred no longer than valid, and finite (an address
// that never expires is written without lifetimes).
func lifetimeRule(o Op) string {
	v, p := o.ValidLft, o.PreferredLft
	switch {
	case v == 0 && p == 0:
		return ""
	case v < MinLifetime || p < MinLifetime:
		return fmt.Sprintf("lifetimes under %d s could expire during a run", MinLifetime)
	case p > v:
		return fmt.Sprintf("preferred_lft %d is longer than valid_lft %d", p, v)
	case v == forever:
		return "valid_lft 4294967295 is forever: write no lifetimes"
	}
	return ""
}

// forever is the kernel's infinite lifetime (INFINITY_LIFE_TIME).
const forever = 1<<32 - 1

func b2u(b bool) uint32 {
	if b {
		return 1
	}
	return 0
}

// attrs lists every attribute, in the order Op.String writes them.
var attrs = []*Attr{MetricAttr, NoPrefixRouteAttr, ValidLftAttr, PreferredLftAttr}

// Attrs returns every attribute any op kind takes, in the order ops are
// written with them. The slice is shared: do not modify it.
func Attrs() []*Attr { return attrs }

// Capabilities returns the capability of every attribute, each once.
func Capabilities() []string {
	var cs []string
	for _, a := range attrs {
		if !slices.Contains(cs, a.Capability) {
			cs = append(cs, a.Capability)
		}
	}
	return cs
}

// Leads reports whether a is drawn and dropped on its own or leads a
// pair: it is not another attribute's With.
func (a *Attr) Leads() bool {
	return !slices.ContainsFunc(attrs, func(b *Attr) bool { return b.With == a })
}

// OpSpec is the definition of one op kind.
type OpSpec struct {
	Kind OpKind
	// Name is the verb that starts the op's line: "add", or two words,
	// "route add".
	Name string
	// Operands are the positional arguments after the verb, in order.
	Operands []Operand
	// Attrs are the optional attributes it takes, after the operands.
	Attrs []*Attr
	// Present says the op is about something that is there, an address
	// or, for a route kind, a user's route: the generator mostly draws
	// one that is, and an op on another is among its oddities.
	Present bool
	// Draw names the generator's action that draws the kind; kinds that
	// share one are drawn as one action, so that together they are drawn
	// as often as a kind alone. Empty means an action of its own, named
	// by the verb.
	Draw string
	// Share is the kind's share of its Draw action: the kinds of one
	// action are drawn in proportion to their shares (0 counts as 1).
	// Kinds that are costly to run on a real stack (unplug and plug
	// re-create a device) take a smaller share.
	Share int
	// V1 says that a protocol-1 program that declares no ops= capability
	// takes the kind (add and del, the kinds the protocol began with).
	V1 bool
	// Declared says that only a stack that lists the kind among the ops
	// it takes (sut.Limits.Ops) is sent it; one that lists none takes
	// every other kind. For a kind that matters to few stacks (hold).
	Declared bool
}

// Alphabet is every op kind, Alphabet[k-1] being kind k's definition.
// Do not modify it.
var Alphabet = []*OpSpec{
	{Kind: Add, Name: "add", Operands: []Operand{AdapterOperand, PrefixOperand}, Attrs: addressAttrs, V1: true},
	{Kind: Del, Name: "del", Operands: []Operand{AdapterOperand, PrefixOperand}, Present: true, V1: true},
	{Kind: Down, Name: "down", Operands: []Operand{AdapterOperand}, Draw: "link", Share: 3},
	{Kind: Up, Name: "up", Operands: []Operand{AdapterOperand}, Draw: "link", Share: 3},
	{Kind: Unplug, Name: "unplug", Operands: []Operand{AdapterOperand}, Draw: "link", Share: 1},
	{Kind: Plug, Name: "plug", Operands: []Operand{AdapterOperand}, Draw: "link", Share: 1},
	{Kind: Change, Name: "change", Operands: []Operand{AdapterOperand, PrefixOperand}, Attrs: addressAttrs, Present: true},
	{Kind: Carrier, Name: "carrier", Operands: []Operand{AdapterOperand, SwitchOperand}, Draw: "link", Share: 2},
	{Kind: RouteAdd, Name: "route add", Operands: []Operand{DstOperand, ViaOperand, DevOperand, SrcOperand}, Attrs: routeAttrs, Draw: "route", Share: 3},
	{Kind: RouteDel, Name: "route del", Operands: []Operand{DstOperand, ViaOperand, DevOperand}, Attrs: routeAttrs, Present: true, Draw: "route", Share: 1},
	{Kind: Hold, Name: "hold", Operands: []Operand{HostOperand}, Declared: true},
}

var (
	addressAttrs = []*Attr{MetricAttr, NoPrefixRouteAttr, ValidLftAttr, PreferredLftAttr}
	// A route's metric is its priority (RTA_PRIORITY); absent, the
	// kernel's default for the family (0, or IPv6RouteMetric).
	routeAttrs = []*Attr{MetricAttr}
)

// Spec returns the definition of k, or nil when k is no kind.
func (k OpKind) Spec() *OpSpec {
	if k == 0 || int(k) > len(Alphabet) {
		return nil
	}
	return Alphabet[k-1]
}

// String returns the kind's verb, "add" or "del".
func (k OpKind) String() string {
	if sp := k.Spec(); sp != nil {
		return sp.Name
	}
	return "OpKind(" + strconv.Itoa(int(k)) + ")"
}

// ParseOpKind parses a verb: a kind's Name or its Token.
func ParseOpKind(s string) (OpKind, error) {
	for _, sp := range Alphabet {
		if sp.Name == s || sp.Token() == s {
			return sp.Kind, nil
		}
	}
	return 0, fmt.Errorf("unknown verb %q (want %s)", s, verbs())
}

// Token returns the kind's name as one word, its spaces made dashes
// ("route-add"), for lists such as the hello's ops=.
func (sp *OpSpec) Token() string { return strings.ReplaceAll(sp.Name, " ", "-") }

// words returns how many words the kind's verb has.
func (sp *OpSpec) words() int { return strings.Count(sp.Name, " ") + 1 }

// verbs returns "add or del", "add, del or change".
func verbs() string {
	var b strings.Builder
	for i, sp := range Alphabet {
		switch {
		case i == 0:
		case i == len(Alphabet)-1:
			b.WriteString(" or ")
		default:
			b.WriteString(", ")
		}
		b.WriteString(sp.Name)
	}
	return b.String()
}

// V1Ops returns the kinds a protocol-1 program takes when it declares no
// ops= capability.
func V1Ops() []OpKind {
	var ks []OpKind
	for _, sp := range Alphabet {
		if sp.V1 {
			ks = append(ks, sp.Kind)
		}
	}
	return ks
}

// Usage returns the kind's grammar: "add ADAPTER ADDRESS/LENGTH [metric N]".
func (sp *OpSpec) Usage() string {
	var b strings.Builder
	b.WriteString(sp.operandUsage())
	for _, a := range sp.Attrs {
		if !a.Leads() {
			continue
		}
		b.WriteString(" [" + a.usage())
		if a.With != nil {
			b.WriteString(" " + a.With.usage())
		}
		b.WriteString("]")
	}
	return b.String()
}

// usage returns "metric N" or "noprefixroute".
func (a *Attr) usage() string {
	if a.Flag {
		return a.Name
	}
	return a.Name + " N"
}

// operandUsage returns the kind's grammar without its attributes.
func (sp *OpSpec) operandUsage() string {
	var b strings.Builder
	b.WriteString(sp.Name)
	for _, x := range sp.Operands {
		b.WriteString(" " + x.usage())
	}
	return b.String()
}

// Routes reports whether the kind is about a user's route rather than an
// address or an adapter: it takes a destination.
func (sp *OpSpec) Routes() bool { return sp.Has(DstOperand) }

// TakesAdapter reports whether the kind names an adapter (Op.Adapter):
// an AdapterOperand, or a route's DevOperand.
func (sp *OpSpec) TakesAdapter() bool { return sp.Has(AdapterOperand) || sp.Has(DevOperand) }

// Has reports whether the kind takes operand x.
func (sp *OpSpec) Has(x Operand) bool {
	for _, y := range sp.Operands {
		if y == x {
			return true
		}
	}
	return false
}

// Takes reports whether the kind takes attribute a.
func (sp *OpSpec) Takes(a *Attr) bool {
	for _, b := range sp.Attrs {
		if b == a {
			return true
		}
	}
	return false
}

func (sp *OpSpec) attr(name string) *Attr {
	for _, a := range sp.Attrs {
		if a.Name == name {
			return a
		}
	}
	return nil
}

// As returns o as an op of kind k: its operands and attributes, less
// those k does not take.
func (o Op) As(k OpKind) Op {
	o.Kind = k
	sp := k.Spec()
	if sp == nil {
		return o
	}
	if !sp.TakesAdapter() {
		o.Adapter = ""
	}
	switch {
	case sp.Has(DstOperand):
		o.Prefix = o.Prefix.Masked()
	case sp.Has(HostOperand):
		if o.Prefix.IsValid() {
			o.Prefix = netip.PrefixFrom(o.Prefix.Addr(), o.Prefix.Addr().BitLen())
		}
	case !sp.Has(PrefixOperand):
		o.Prefix = netip.Prefix{}
	}
	if !sp.Has(SwitchOperand) {
		o.On = false
	}
	if !sp.Has(ViaOperand) {
		o.Via = netip.Addr{}
	}
	if !sp.Has(SrcOperand) {
		o.Src = netip.Addr{}
	}
	for _, a := range attrs {
		if !sp.Takes(a) {
			a.Set(&o, 0)
		}
	}
	return o
}

// Validate reports whether o is well formed: a kind in Alphabet, valid
// operands (a prefix that is valid, with no zone, not IPv4-mapped IPv6),
// and no operand or attribute its kind does not take. It is the one
// statement of these rules, for the model and every stack. Whether the
// adapter exists, and everything else that depends on a stack's state,
// is each stack's to say. The error is an *OpError wrapping ErrInvalid.
func (o Op) Validate() error {
	sp := o.Kind.Spec()
	if sp == nil {
		return opErr(o, Invalid, "unknown operation kind %d", o.Kind)
	}
	if sp.Has(PrefixOperand) || sp.Has(DstOperand) || sp.Has(HostOperand) {
		p := o.Prefix
		switch {
		case !p.IsValid():
			return opErr(o, Invalid, "malformed prefix")
		case p.Addr().Zone() != "":
			return opErr(o, Invalid, "prefix %s has a zone", p)
		case p.Addr().Is4In6():
			return opErr(o, Invalid, "prefix %s is IPv4-mapped IPv6", p)
		case sp.Has(DstOperand) && p != p.Masked():
			return opErr(o, Invalid, "destination %s has host bits set (want %s)", p, p.Masked())
		case sp.Has(HostOperand) && !p.IsSingleIP():
			return opErr(o, Invalid, "%s takes an address, not the prefix %s", sp.Name, p)
		}
	} else if o.Prefix != (netip.Prefix{}) {
		return opErr(o, Invalid, "%s takes no address", sp.Name)
	}
	for _, x := range []Operand{ViaOperand, SrcOperand} {
		a := o.Via
		if x == SrcOperand {
			a = o.Src
		}
		switch {
		case !a.IsValid():
		case !sp.Has(x):
			return opErr(o, Invalid, "%s takes no %s", sp.Name, x.Keyword())
		case a.Is4() != o.Prefix.Addr().Is4():
			return opErr(o, Invalid, "%s %s is not of the destination's family", x.Keyword(), a)
		case a.Zone() != "" || a.Is4In6() || !a.IsGlobalUnicast():
			return opErr(o, Invalid, "%s %s is not a unicast address", x.Keyword(), a)
		}
	}
	if !sp.TakesAdapter() && o.Adapter != "" {
		return opErr(o, Invalid, "%s takes no adapter", sp.Name)
	}
	if !sp.Has(SwitchOperand) && o.On {
		return opErr(o, Invalid, "%s takes no on or off", sp.Name)
	}
	for _, a := range attrs {
		v := a.Get(o)
		switch {
		case v != 0 && !sp.Takes(a):
			return opErr(o, Invalid, "%s takes no %s", sp.Name, a.Name)
		case a.Flag && v > 1:
			return opErr(o, Invalid, "flag %s is %d", a.Name, v)
		case a.With != nil && (v == 0) != (a.With.Get(o) == 0):
			return opErr(o, Invalid, "%s and %s go together", a.Name, a.With.Name)
		}
		if a.Rule != nil {
			if msg := a.Rule(o); msg != "" {
				return opErr(o, Invalid, "%s", msg)
			}
		}
	}
	return nil
}
