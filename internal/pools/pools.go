// Package pools holds the address pools the generators draw prefixes
// from: a few subnets shared by every adapter, the same host at several
// lengths, the network address itself. props draws from them through
// rapid, bytefuzz decodes bytes into them; both take the same addresses
// from here. Each pool lists its simplest value first, so shrinking goes
// toward it. Decoding indexes the pools, so changing one changes what
// every stored input and pinned seed means: do not modify them.
package pools

import "net/netip"

var (
	// V4Nets are the IPv4 networks; a prefix's last byte is a V4Hosts.
	V4Nets = []netip.Addr{netip.MustParseAddr("10.0.0.0"), netip.MustParseAddr("10.0.1.0"), netip.MustParseAddr("10.1.0.0"), netip.MustParseAddr("0.0.0.0")}
	// V4Hosts are the last bytes of IPv4 addresses: 0 is the network
	// address of a /24, 255 its broadcast.
	V4Hosts = []byte{1, 2, 3, 0, 255}
	// V4Lengths are the IPv4 prefix lengths.
	V4Lengths = []int{24, 16, 8, 31, 32}
	// V6Nets are the IPv6 networks; a prefix's last byte is a V6Hosts.
	V6Nets = []netip.Addr{netip.MustParseAddr("2001:db8:0:1::"), netip.MustParseAddr("2001:db8:0:2::"), netip.MustParseAddr("2001:db8:1:1::")}
	// V6Hosts are the last bytes of IPv6 addresses.
	V6Hosts = []byte{1, 2, 3, 0}
	// V6Lengths are the IPv6 prefix lengths.
	V6Lengths = []int{64, 48, 128, 127}
)

// The pools of route ops (route add, route del). They are drawn so that
// routes collide with addresses: destinations that are the address pools'
// own subnets, gateways inside those subnets (on link only while an
// address of the subnet is on the adapter) and sources that are the
// address pools' addresses (local only while some adapter holds them).
var (
	// V4RouteDsts are the IPv4 route destinations: the default route,
	// a documentation network, two of V4Nets' /24s (the same key as an
	// address's subnet route), a /16 around them and a host route to V4Nets' first address (the
	// host's own when an adapter holds it).
	V4RouteDsts = []netip.Prefix{
		netip.MustParsePrefix("0.0.0.0/0"), netip.MustParsePrefix("198.51.100.0/24"),
		netip.MustParsePrefix("10.0.0.0/24"), netip.MustParsePrefix("10.1.0.0/24"),
		netip.MustParsePrefix("10.0.0.0/16"), netip.MustParsePrefix("10.0.0.1/32"),
	}
	// V6RouteDsts are the IPv6 route destinations, alike.
	V6RouteDsts = []netip.Prefix{
		netip.MustParsePrefix("::/0"), netip.MustParsePrefix("2001:db8:99::/64"),
		netip.MustParsePrefix("2001:db8:0:1::/64"), netip.MustParsePrefix("2001:db8:1:1::/64"),
		netip.MustParsePrefix("2001:db8::/48"), netip.MustParsePrefix("2001:db8:0:1::1/128"),
	}
	// V4GatewayNets are the networks a gateway is drawn in: V4Nets'
	// first three (on link while an address of them is on the adapter)
	// and the documentation network of V4RouteDsts (on link while a
	// user's route to it is).
	V4GatewayNets = []netip.Addr{netip.MustParseAddr("10.0.0.0"), netip.MustParseAddr("10.0.1.0"), netip.MustParseAddr("10.1.0.0"), netip.MustParseAddr("198.51.100.0")}
	// V6GatewayNets are the networks an IPv6 gateway is drawn in.
	V6GatewayNets = []netip.Addr{netip.MustParseAddr("2001:db8:0:1::"), netip.MustParseAddr("2001:db8:0:2::"), netip.MustParseAddr("2001:db8:1:1::"), netip.MustParseAddr("2001:db8:99::")}
	// GatewayHosts are the last bytes of gateways: a neighbour, a router
	// at the end of a /24, and 1, which is also V4Hosts' and V6Hosts'
	// first address (a gateway that is the host's own address).
	GatewayHosts = []byte{9, 254, 1}
)
