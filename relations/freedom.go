package relations

import (
	"net/netip"
	"slices"

	"github.com/routefuzz/routefuzz/model"
	"github.com/routefuzz/routefuzz/sut"
)

// A Freedom is something a stack declares order-dependent: two orders
// that reach the same configuration may answer differently in it, and
// the relations compare lookups modulo it. It is data, not a special
// case: a stack lists its own (OrderDependent); one that lists none is
// taken to have Linux's (Default).
type Freedom string

const (
	// SourceV4: which IPv4 address of a subnet is primary, and so the
	// source of a lookup (the connected route's src, and source
	// selection across adapters, by the order addresses became primary
	// and adapters were made). Two answers that differ only in an IPv4
	// source agree when each source is an address its run holds.
	SourceV4 Freedom = "ipv4-source"
	// SharedSubnet: which of several adapters holding a destination's
	// subnet a lookup leaves by (the kernel takes the route inserted
	// first), and so the source. Two answers agree when each leaves by an
	// adapter that holds, in its run, an address whose prefix contains
	// the destination, with the same gateway and kind.
	SharedSubnet Freedom = "shared-subnet-adapter"
)

// Default is what a stack that declares nothing is taken to declare
// order-dependent: the Linux kernel's freedoms, which the model also
// leaves open.
var Default = []Freedom{SourceV4, SharedSubnet}

// OrderDependent is implemented by a stack that declares what is
// order-dependent in it, when it is not Default (a stack that declares
// nothing order-dependent returns an empty, non-nil list).
//
// It belongs in sut.Limits (a field OrderDependent []string); until it
// is there, a stack declares it with this method.
type OrderDependent interface {
	OrderDependent() []Freedom
}

// DeclaredBy returns what s declares order-dependent.
func DeclaredBy(s sut.Stack) []Freedom {
	if d, ok := s.(OrderDependent); ok {
		if f := d.OrderDependent(); f != nil {
			return f
		}
		return []Freedom{}
	}
	return Default
}

// modulo returns got with each answer that agrees with want's modulo the
// declared freedoms replaced by want's, so that the registry's comparison
// (and its report) sees only the differences that count. addrA and addrB
// are the addresses of want's run and got's.
func (c *Context) modulo(want, got []model.LookupResult, addrA, addrB []model.Addr) []model.LookupResult {
	if len(want) != len(got) || len(c.free) == 0 {
		return got
	}
	out := slices.Clone(got)
	for i, g := range got {
		w := want[i]
		if w.Dst != g.Dst || w.Agrees(g) || len(w.Or) > 0 || len(g.Or) > 0 {
			continue
		}
		if c.same(w.Dst, w.Hop, g.Hop, addrA, addrB) {
			out[i] = w
		}
	}
	return out
}

// same reports whether two answers for dst agree modulo the freedoms.
func (c *Context) same(dst netip.Addr, a, b model.Hop, addrA, addrB []model.Addr) bool {
	if a.Kind != b.Kind || a.Via != b.Via {
		return false
	}
	srcOK := a.Src == b.Src || c.Free(SourceV4) && dst.Is4() && held(addrA, a.Src) && held(addrB, b.Src)
	if a.Dev == b.Dev {
		return srcOK
	}
	if !c.Free(SharedSubnet) || a.Via.IsValid() || a.Kind != model.ToUnicast && a.Kind != model.ToBroadcast {
		return false
	}
	// Another adapter: the source follows it, but must be in the subnet.
	return holdsSubnet(addrA, a.Dev, dst) && holdsSubnet(addrB, b.Dev, dst) &&
		(a.Src == b.Src || inSubnetOf(addrA, a.Dev, dst, a.Src) && inSubnetOf(addrB, b.Dev, dst, b.Src))
}

// held reports whether some adapter holds address a.
func held(as []model.Addr, a netip.Addr) bool {
	return slices.ContainsFunc(as, func(x model.Addr) bool { return x.Prefix.Addr() == a })
}

// holdsSubnet reports whether dev holds an address whose prefix contains
// dst.
func holdsSubnet(as []model.Addr, dev string, dst netip.Addr) bool {
	return slices.ContainsFunc(as, func(x model.Addr) bool { return x.Adapter == dev && x.Prefix.Contains(dst) })
}

// inSubnetOf reports whether src is a held address inside a prefix of
// dev's that contains dst.
func inSubnetOf(as []model.Addr, dev string, dst, src netip.Addr) bool {
	if !held(as, src) {
		return false
	}
	return slices.ContainsFunc(as, func(x model.Addr) bool {
		return x.Adapter == dev && x.Prefix.Contains(dst) && x.Prefix.Contains(src)
	})
}

// NotApplying is implemented by a stack that declares relations that do
// not apply to it, by name, as data: a documented policy of the stack
// that breaks the relation by design (gVisor's netstack API alone makes
// no route for an address, so no neighbour is reachable: reachability).
// The Oracle does not check them on it.
type NotApplying interface {
	NotApplying() []string
}

// declaredNotApplying reports whether s declares that rel does not apply to it.
func declaredNotApplying(s sut.Stack, rel *Relation) bool {
	d, ok := s.(NotApplying)
	return ok && slices.Contains(d.NotApplying(), rel.Name)
}
