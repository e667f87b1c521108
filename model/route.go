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
	// Connected is the prefix route to the address's subnet (main table,
	// scope link, RTN_UNICAST).
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

// Route is one route in a stack's tables.
//
// Dst is masked (10.0.0.0/24, local 10.0.0.1/32). Src is the preferred
// source address, the zero Addr when the route has none (IPv6). Metric is
// the route priority. Linkdown is the kernel's RTNH_F_LINKDOWN: the route's
// adapter is up without carrier.
type Route struct {
	Kind     RouteKind
	Dst      netip.Prefix
	Dev      string
	Src      netip.Addr
	Metric   uint32
	Linkdown bool
}

// String returns the route in `ip route` style:
//
//	10.0.0.0/24 dev a0 src 10.0.0.1
//	local 10.0.0.1/32 dev a0 src 10.0.0.1
//	broadcast 10.0.0.255/32 dev a0 src 10.0.0.1 metric 5
//	10.0.0.0/24 dev a0 src 10.0.0.1 linkdown
func (r Route) String() string {
	var b strings.Builder
	if r.Kind != Connected {
		b.WriteString(r.Kind.String())
		b.WriteByte(' ')
	}
	b.WriteString(r.Dst.String())
	b.WriteString(" dev ")
	b.WriteString(r.Dev)
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
// The "src" and "metric" attributes and the "linkdown" flag are optional
// and may come in any order.
func ParseRoute(s string) (Route, error) {
	f := strings.Fields(s)
	var r Route
	r.Kind = Connected
	if len(f) > 0 && (f[0] == "local" || f[0] == "broadcast") {
		r.Kind, _ = ParseRouteKind(f[0])
		f = f[1:]
	}
	if len(f) < 3 || f[1] != "dev" {
		return Route{}, &SyntaxError{Input: s, Msg: "want [local|broadcast] PREFIX dev ADAPTER [src ADDRESS] [metric N] [linkdown]"}
	}
	dst, err := parsePrefix(f[0])
	if err != nil {
		return Route{}, &SyntaxError{Input: s, Msg: err.Error()}
	}
	if dst != dst.Masked() {
		return Route{}, &SyntaxError{Input: s, Msg: fmt.Sprintf("destination %s has host bits set (want %s)", dst, dst.Masked())}
	}
	r.Dst = dst
	if err := checkAdapterName(f[2]); err != nil {
		return Route{}, &SyntaxError{Input: s, Msg: err.Error()}
	}
	r.Dev = f[2]
	var seenSrc, seenMetric bool
	for rest := f[3:]; len(rest) > 0; rest = rest[2:] {
		if rest[0] == "linkdown" && !r.Linkdown {
			r.Linkdown = true
			rest = rest[1:]
			if len(rest) == 0 {
				break
			}
		}
		if rest[0] == "linkdown" {
			return Route{}, &SyntaxError{Input: s, Msg: `unexpected "linkdown" (repeated)`}
		}
		if len(rest) < 2 {
			return Route{}, &SyntaxError{Input: s, Msg: fmt.Sprintf("%q needs a value", rest[0])}
		}
		switch key, val := rest[0], rest[1]; {
		case key == "src" && !seenSrc:
			a, err := netip.ParseAddr(val)
			if err != nil || a.Zone() != "" || a.Is4In6() {
				return Route{}, &SyntaxError{Input: s, Msg: fmt.Sprintf("bad src %q", val)}
			}
			r.Src, seenSrc = a, true
		case key == "metric" && !seenMetric:
			m, err := strconv.ParseUint(val, 10, 32)
			if err != nil {
				return Route{}, &SyntaxError{Input: s, Msg: fmt.Sprintf("bad metric %q: want a number from 0 to 4294967295", val)}
			}
			r.Metric, seenMetric = uint32(m), true
		default:
			return Route{}, &SyntaxError{Input: s, Msg: fmt.Sprintf("unexpected %q", key)}
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
// destination, adapter, source, metric and linkdown.
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
