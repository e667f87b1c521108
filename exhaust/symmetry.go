package exhaust

import (
	"fmt"
	"net/netip"
	"slices"

	"github.com/routefuzz/routefuzz/model"
)

// maxSymmetries bounds the group elements the search checks a sequence
// against. Checking a subset of the symmetries is sound (see the package
// documentation); it only keeps more sequences.
const maxSymmetries = 5040

// symmetries returns the renamings of u that map ops onto ops, each as
// a permutation of op positions, the identity left out: every adapter
// permutation times every permutation of each class of interchangeable
// addresses (AddressClasses).
func symmetries(u Universe, ops []model.Op) [][]int {
	index := make(map[model.Op]int, len(ops))
	for i, op := range ops {
		index[op] = i
	}
	adapterPerms := permutations(len(u.Config.Adapters))
	addrMaps := []map[netip.Addr]netip.Addr{{}}
	for _, class := range AddressClasses(u) {
		var next []map[netip.Addr]netip.Addr
		for _, m := range addrMaps {
			for _, p := range permutations(len(class)) {
				n := make(map[netip.Addr]netip.Addr, len(m)+len(class))
				for k, v := range m {
					n[k] = v
				}
				for i, j := range p {
					if i != j {
						n[class[i]] = class[j]
					}
				}
				next = append(next, n)
				if len(next)*len(adapterPerms) > maxSymmetries {
					break
				}
			}
		}
		addrMaps = next
	}
	var perms [][]int
	for _, ap := range adapterPerms {
		rename := make(map[string]string, len(ap))
		for i, j := range ap {
			rename[u.Config.Adapters[i]] = u.Config.Adapters[j]
		}
		for _, am := range addrMaps {
			perm := make([]int, len(ops))
			identity, closed := true, true
			for i, op := range ops {
				o := op
				if o.Adapter != "" {
					o.Adapter = rename[o.Adapter]
				}
				if a, ok := am[o.Prefix.Addr()]; ok && o.Prefix.IsValid() {
					o.Prefix = netip.PrefixFrom(a, o.Prefix.Bits())
				}
				// A route op's gateway and source: never in a class
				// (AddressClasses), renamed for completeness.
				if a, ok := am[o.Via]; ok {
					o.Via = a
				}
				if a, ok := am[o.Src]; ok {
					o.Src = a
				}
				j, ok := index[o]
				if !ok {
					closed = false
					break
				}
				perm[i] = j
				identity = identity && i == j
			}
			if closed && !identity {
				perms = append(perms, perm)
			}
		}
	}
	return perms
}

// permutations returns every permutation of 0..n-1, the identity first.
func permutations(n int) [][]int {
	if n == 0 {
		return [][]int{{}}
	}
	var out [][]int
	for _, p := range permutations(n - 1) {
		for i := len(p); i >= 0; i-- {
			q := slices.Insert(slices.Clone(p), i, n-1)
			out = append(out, q)
		}
	}
	return out
}

// AddressClasses returns the classes of interchangeable addresses of u,
// those with two or more members: addresses x and y are interchangeable
// when
//
//   - both are of one family, global unicast (netip.Addr.IsGlobalUnicast:
//     not unspecified, loopback, multicast or link-local), and neither is
//     the limited broadcast address;
//   - at every prefix length L of their family in u (the lengths the
//     stack's route lookups can match), they lie in the same subnet
//     (x/L and y/L have one masked prefix), and neither is that subnet's
//     network address (host part zero: the IPv4 network address, the IPv6
//     subnet-router anycast address) nor, for IPv4 below /31, its
//     broadcast address (host part all ones);
//   - u has them at the same lengths: x/L is in Prefixes exactly when y/L
//     is;
//   - neither is the address of a route destination, a gateway or a
//     source of u (route ops relate those addresses to the others in
//     ways the rules above do not follow: on link, a source held or
//     not), and the lengths L include those of the route destinations
//     (a route to 10.0.0.0/25 tells 10.0.0.1 from 10.0.0.200).
//
// Swapping two such addresses everywhere maps the universe onto itself
// and every relation the model's semantics read between addresses (same
// address, same address at another length, same subnet, being another
// subnet's broadcast or network address) onto itself. Every address
// outside a class keeps its name.
func AddressClasses(u Universe) [][]netip.Addr {
	lengths := map[bool][]int{} // by Is4
	var addrs []netip.Addr
	for _, p := range u.Prefixes {
		if !slices.Contains(lengths[p.Addr().Is4()], p.Bits()) {
			lengths[p.Addr().Is4()] = append(lengths[p.Addr().Is4()], p.Bits())
		}
		if !slices.Contains(addrs, p.Addr()) {
			addrs = append(addrs, p.Addr())
		}
	}
	routed := slices.Concat(u.Gateways, u.Sources)
	for _, p := range u.Dsts {
		routed = append(routed, p.Addr())
		if !slices.Contains(lengths[p.Addr().Is4()], p.Bits()) {
			lengths[p.Addr().Is4()] = append(lengths[p.Addr().Is4()], p.Bits())
		}
	}
	has := func(a netip.Addr, bits int) bool { return slices.Contains(u.Prefixes, netip.PrefixFrom(a, bits)) }
	special := func(a netip.Addr) bool {
		if !a.IsValid() || !a.IsGlobalUnicast() || a == netip.AddrFrom4([4]byte{255, 255, 255, 255}) || a.Zone() != "" || slices.Contains(routed, a) {
			return true
		}
		for _, l := range lengths[a.Is4()] {
			if l < a.BitLen() && netip.PrefixFrom(a, l).Masked().Addr() == a {
				return true
			}
			if a.Is4() && l < 31 && lastAddr(netip.PrefixFrom(a, l)) == a {
				return true
			}
		}
		return false
	}
	same := func(x, y netip.Addr) bool {
		if x.Is4() != y.Is4() {
			return false
		}
		for _, l := range lengths[x.Is4()] {
			if netip.PrefixFrom(x, l).Masked() != netip.PrefixFrom(y, l).Masked() || has(x, l) != has(y, l) {
				return false
			}
		}
		return true
	}
	var classes [][]netip.Addr
	done := map[netip.Addr]bool{}
	for i, x := range addrs {
		if done[x] || special(x) {
			continue
		}
		class := []netip.Addr{x}
		for _, y := range addrs[i+1:] {
			if !done[y] && !special(y) && same(x, y) {
				class = append(class, y)
				done[y] = true
			}
		}
		if len(class) > 1 {
			classes = append(classes, class)
		}
	}
	return classes
}

// lastAddr returns the last address of p's subnet: for IPv4, its
// broadcast address.
func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Masked().Addr().AsSlice()
	bits := p.Bits()
	for i := range b {
		for j := 0; j < 8; j++ {
			if i*8+j >= bits {
				b[i] |= 0x80 >> j
			}
		}
	}
	a, _ := netip.AddrFromSlice(b)
	return a
}

// canonical reports whether seq (positions in the universe's ops) is the
// least of its images under perms, lexicographically: the representative
// of its class that the search runs.
func canonical(seq []int, perms [][]int) bool {
	for _, p := range perms {
		for _, x := range seq {
			y := p[x]
			if y < x {
				return false
			}
			if y > x {
				break
			}
		}
	}
	return true
}

// orbitSize returns the number of distinct sequences seq is renamed to by
// perms and the identity.
func orbitSize(seq []int, perms [][]int) int {
	seen := map[string]bool{fmt.Sprint(seq): true}
	img := make([]int, len(seq))
	for _, p := range perms {
		for i, x := range seq {
			img[i] = p[x]
		}
		seen[fmt.Sprint(img)] = true
	}
	return len(seen)
}
