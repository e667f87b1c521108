package model

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
)

// RouteKind is the type of a kernel route that an address creates.
type RouteKind uint8

const (
	// Connected is a unicast route in the main table (RTN_UNICAST): the
	// prefix route to an address's subnet, or a user's route (Route.Proto).
	Connected RouteKind = iota + 1
	// Local is the route to the address itself (local table, RTN_LOCAL).
	Local
	// Broadcast is the subnet's broadcast route (local table, RTN_BROADCAST).
	Broadcast
)

// AllKinds lists every route kind in table order.
var AllKinds = []RouteKind{Connected, Local, Broadcast}

// String returns "connected", "local" or "broadcast".
func (k RouteKind) String() string {
	switch k {
	case Connected:
		return "connected"
	case Local:
		return "local"
	case Broadcast:
		return "broadcast"
	}
	return "RouteKind(" + strconv.Itoa(int(k)) + ")"
}

// ParseRouteKind parses the String form of a RouteKind.
func ParseRouteKind(s string) (RouteKind, error) {
	for _, k := range AllKinds {
		if k.String() == s {
			return k, nil
		}
	}
	return 0, fmt.Errorf("unknown route kind %q (want connected, local or broadcast)", s)
}

// Proto says who made a route (the kernel's rtm_protocol).
type Proto uint8

const (
	// ProtoKernel: the kernel, for an address (RTPROT_KERNEL).
	ProtoKernel Proto = iota
	// ProtoBoot: a user, by a route add op (RTPROT_BOOT, what
	// `ip route add` sets).
	ProtoBoot
)

// String returns "kernel" or "boot".
func (p Proto) String() string {
	switch p {
	case ProtoKernel:
		return "kernel"
	case ProtoBoot:
		return "boot"
	}
	return "Proto(" + strconv.Itoa(int(p)) + ")"
}

// Route is one route in a stack's tables.
//
// Dst is masked (10.0.0.0/24, local 10.0.0.1/32). Via is the gateway, the
// zero Addr for a route on link. Proto says whether the kernel made it for
// an address or a user added it. Src is the preferred source address, the
// zero Addr when the route has none (IPv6, a user's route without src).
// Metric is the route priority. Linkdown is the kernel's RTNH_F_LINKDOWN:
// the route's adapter is up without carrier.
type Route struct {
	Kind     RouteKind
	Dst      netip.Prefix
	Via      netip.Addr
	Dev      string
	Proto    Proto
	Src      netip.Addr
	Metric   uint32
	Linkdown bool
}

// String returns the route in `ip route` style, the destination written
// as a route op writes it ("default" when it can):
//
//	10.0.0.0/24 dev a0 src 10.0.0.1
//	local 10.0.0.1/32 dev a0 src 10.0.0.1
//	broadcast 10.0.0.255/32 dev a0 src 10.0.0.1 metric 5
//	10.0.0.0/24 dev a0 src 10.0.0.1 linkdown
//	default via 10.0.0.9 dev a0 proto boot
//	2001:db8:9::/64 dev a1 proto boot metric 1024
func (r Route) String() string {
	var b strings.Builder
	if r.Kind != Connected {
		b.WriteString(r.Kind.String())
		b.WriteByte(' ')
	}
	b.WriteString(dstString(r.Dst, r.Via, r.Src))
	if r.Via.IsValid() {
		b.WriteString(" via ")
		b.WriteString(r.Via.String())
	}
	b.WriteString(" dev ")
	b.WriteString(r.Dev)
	if r.Proto != ProtoKernel {
		b.WriteString(" proto ")
		b.WriteString(r.Proto.String())
	}
	if r.Src.IsValid() {
		b.WriteString(" src ")
		b.WriteString(r.Src.String())
	}
	if r.Metric != 0 {
		b.WriteString(" metric ")
		b.WriteString(strconv.FormatUint(uint64(r.Metric), 10))
	}
	if r.Linkdown {
		b.WriteString(" linkdown")
	}
	return b.String()
}

// ParseRoute parses one route line in the form that Route.String prints.
// The "proto", "src" and "metric" attributes and the "linkdown" flag are
// optional and may come in any order.
func ParseRoute(s string) (Route, error) {
	f := strings.Fields(s)
	bad := func(format string, args ...any) (Route, error) {
		return Route{}, &SyntaxError{Input: s, Msg: fmt.Sprintf(format, args...)}
	}
	var r Route
	r.Kind = Connected
	if len(f) > 0 && (f[0] == "local" || f[0] == "broadcast") {
		r.Kind, _ = ParseRouteKind(f[0])
		f = f[1:]
	}
	const usage = "want [local|broadcast] DST [via GATEWAY] dev ADAPTER [proto kernel|boot] [src ADDRESS] [metric N] [linkdown]"
	if len(f) >= 3 && f[1] == "via" {
		a, err := parseAddr(f[2])
		if err != nil {
			return bad("bad gateway: %s", err)
		}
		r.Via = a
		f = append(f[:1:1], f[3:]...)
	}
	if len(f) < 3 || f[1] != "dev" {
		return bad(usage)
	}
	dflt := f[0] == "default"
	if !dflt {
		dst, err := parsePrefix(f[0])
		if err != nil {
			return bad("%s", err)
		}
		if dst != dst.Masked() {
			return bad("destination %s has host bits set (want %s)", dst, dst.Masked())
		}
		r.Dst = dst
	}
	if err := checkAdapterName(f[2]); err != nil {
		return bad("%s", err)
	}
	r.Dev = f[2]
	seen := map[string]bool{}
	for rest := f[3:]; len(rest) > 0; rest = rest[2:] {
		key := rest[0]
		if seen[key] {
			return bad("unexpected %q (repeated)", key)
		}
		seen[key] = true
		if key == "linkdown" {
			r.Linkdown = true
			rest = rest[1:]
			if len(rest) == 0 {
				break
			}
			key = rest[0]
			if seen[key] {
				return bad("unexpected %q (repeated)", key)
			}
			seen[key] = true
		}
		if len(rest) < 2 {
			return bad("%q needs a value", key)
		}
		switch val := rest[1]; key {
		case "src":
			a, err := parseAddr(val)
			if err != nil {
				return bad("bad src %q", val)
			}
			r.Src = a
		case "metric":
			m, err := strconv.ParseUint(val, 10, 32)
			if err != nil {
				return bad("bad metric %q: want a number from 0 to 4294967295", val)
			}
			r.Metric = uint32(m)
		case "proto":
			switch val {
			case "kernel":
			case "boot":
				r.Proto = ProtoBoot
			default:
				return bad("bad proto %q: want kernel or boot", val)
			}
		default:
			return bad("unexpected %q", key)
		}
	}
	if dflt {
		r.Dst = defaultDst(r.Via, r.Src)
	}
	for _, a := range []netip.Addr{r.Via, r.Src} {
		if a.IsValid() && a.Is4() != r.Dst.Addr().Is4() {
			return bad("%s is not of the destination's family", a)
		}
	}
	return r, nil
}

// MustParseRoute is like ParseRoute but panics on error.
func MustParseRoute(s string) Route {
	r, err := ParseRoute(s)
	if err != nil {
		panic(err)
	}
	return r
}

// Compare gives routes a total order: by family, then kind, then
// destination, adapter, gateway, proto, source, metric and linkdown.
func (r Route) Compare(o Route) int {
	if a, b := r.Dst.Addr().Is4(), o.Dst.Addr().Is4(); a != b {
		if a {
			return -1
		}
		return 1
	}
	if r.Kind != o.Kind {
		return int(r.Kind) - int(o.Kind)
	}
	if c := r.Dst.Compare(o.Dst); c != 0 {
		return c
	}
	if c := strings.Compare(r.Dev, o.Dev); c != 0 {
		return c
	}
	if c := r.Via.Compare(o.Via); c != 0 {
		return c
	}
	if r.Proto != o.Proto {
		return int(r.Proto) - int(o.Proto)
	}
	if c := r.Src.Compare(o.Src); c != 0 {
		return c
	}
	switch {
	case r.Metric < o.Metric:
		return -1
	case r.Metric > o.Metric:
		return 1
	case r.Linkdown != o.Linkdown:
		if o.Linkdown {
			return -1
		}
		return 1
	}
	return 0
}

// Table is a route table in canonical order: sorted by Route.Compare. The
// model's tables hold each route once (a kernel FIB keeps one entry for
// identical routes); a table read from a stack may repeat a route, and
// that repetition is itself a divergence (a reference-counting bug often
// shows as one).
type Table []Route

// NewTable returns the canonical table of a set of routes: sorted, each
// route once. It does not modify its argument.
func NewTable(routes []Route) Table {
	return slices.Compact(SortRoutes(routes))
}

// SortRoutes returns routes in canonical order, keeping repetitions, for
// reading a stack's table as it is. It does not modify its argument.
func SortRoutes(routes []Route) Table {
	t := slices.Clone(routes)
	slices.SortFunc(t, Route.Compare)
	return t
}

// String returns one route per line, each ending in a newline.
func (t Table) String() string {
	var b strings.Builder
	for _, r := range t {
		b.WriteString(r.String())
		b.WriteByte('\n')
	}
	return b.String()
}

// Equal reports whether two canonical tables hold the same routes.
func (t Table) Equal(u Table) bool { return slices.Equal(t, u) }

// Filter returns the routes whose kind is in kinds.
func (t Table) Filter(kinds []RouteKind) Table {
	if len(kinds) == 0 || len(kinds) == len(AllKinds) {
		return t
	}
	var out Table
	for _, r := range t {
		if slices.Contains(kinds, r.Kind) {
			out = append(out, r)
		}
	}
	return out
}

// ParseTable parses one route per line; blank lines and lines starting with
// '#' are skipped. Errors name the line number, counting from 1.
func ParseTable(s string) (Table, error) {
	var routes []Route
	for i, line := range strings.Split(s, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		r, err := ParseRoute(line)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", i+1, err)
		}
		routes = append(routes, r)
	}
	return NewTable(routes), nil
}

// DiffLine is one line of a comparison between a wanted and a got table.
// Exactly one of Want and Got is the zero Route when the line differs.
type DiffLine struct {
	Want, Got Route
	InWant    bool
	InGot     bool
}

// Diff merges two canonical tables into one list of lines, in table order:
// routes in both, routes only wanted (missing), routes only got (extra).
func Diff(want, got Table) []DiffLine {
	var out []DiffLine
	i, j := 0, 0
	for i < len(want) || j < len(got) {
		switch {
		case j == len(got) || i < len(want) && want[i].Compare(got[j]) < 0:
			out = append(out, DiffLine{Want: want[i], InWant: true})
			i++
		case i == len(want) || want[i].Compare(got[j]) > 0:
			out = append(out, DiffLine{Got: got[j], InGot: true})
			j++
		default:
			out = append(out, DiffLine{Want: want[i], Got: got[j], InWant: true, InGot: true})
			i++
			j++
		}
	}
	return out
}
