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
