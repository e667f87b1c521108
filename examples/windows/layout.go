package main

import (
	"encoding/binary"
	"net/netip"
)

// The iphlpapi structures this program passes to and reads from
// iphlpapi.dll, laid out as netioapi.h, nldef.h and ws2ipdef.h of the
// Windows SDK define them for 64-bit Windows (amd64, arm64). They are
// declared here, in a file every platform compiles, so that their sizes and
// offsets and the decoding of their addresses are tested on Linux
// (layout_test.go); iphlpapi_windows.go also checks at compile time that
// they have the sizes of golang.org/x/sys/windows' own declarations.
//
// Windows is little-endian on every architecture it runs on, so the
// portable code reads the unions' bytes as little-endian words.

// Address families (ws2def.h).
const (
	afUnspec = 0
	afInet   = 2
	afInet6  = 23
)

// sockaddrInet is SOCKADDR_INET (ws2ipdef.h), the union of SOCKADDR_IN
// and SOCKADDR_IN6: 28 bytes, 4-byte aligned. After Family and Port, a
// SOCKADDR_IN holds its address in the first 4 bytes of Data; a
// SOCKADDR_IN6 holds sin6_flowinfo in the first 4, the address in the next
// 16 and sin6_scope_id in the last 4.
type sockaddrInet struct {
	Family uint16
	Port   uint16 // network byte order; always 0 here
	Data   [6]uint32
}

// bytes returns Data as the bytes it holds in memory.
func (s *sockaddrInet) bytes() [24]byte {
	var b [24]byte
	for i, w := range s.Data {
		binary.LittleEndian.PutUint32(b[4*i:], w)
	}
	return b
}

// setBytes sets Data from the bytes it is to hold in memory.
func (s *sockaddrInet) setBytes(b [24]byte) {
	for i := range s.Data {
		s.Data[i] = binary.LittleEndian.Uint32(b[4*i:])
	}
}

// addr returns the address, the zero Addr when the family is neither
// AF_INET nor AF_INET6. An IPv6 address keeps no zone: the interface is
// known from the row.
func (s *sockaddrInet) addr() netip.Addr {
	b := s.bytes()
	switch s.Family {
	case afInet:
		return netip.AddrFrom4([4]byte(b[0:4]))
	case afInet6:
		return netip.AddrFrom16([16]byte(b[4:20]))
	}
	return netip.Addr{}
}

// sockaddrOf returns the SOCKADDR_INET of a, which must be valid.
func sockaddrOf(a netip.Addr) sockaddrInet {
	var s sockaddrInet
	var b [24]byte
	if a.Is4() {
		s.Family = afInet
		a4 := a.As4()
		copy(b[0:4], a4[:])
	} else {
		s.Family = afInet6
		a16 := a.As16()
		copy(b[4:20], a16[:])
	}
	s.setBytes(b)
	return s
}

// ipAddressPrefix is IP_ADDRESS_PREFIX (netioapi.h): 32 bytes.
type ipAddressPrefix struct {
	Prefix       sockaddrInet
	PrefixLength uint8
}

// mibIpForwardRow2 is MIB_IPFORWARD_ROW2 (netioapi.h): 104 bytes.
type mibIpForwardRow2 struct {
	InterfaceLuid        uint64
	InterfaceIndex       uint32
	DestinationPrefix    ipAddressPrefix
	NextHop              sockaddrInet
	SitePrefixLength     uint8
	ValidLifetime        uint32
	PreferredLifetime    uint32
	Metric               uint32
	Protocol             uint32 // NL_ROUTE_PROTOCOL
	Loopback             uint8
	AutoconfigureAddress uint8
	Publish              uint8
	Immortal             uint8
	Age                  uint32
	Origin               uint32 // NL_ROUTE_ORIGIN
}

// mibUnicastIpAddressRow is MIB_UNICASTIPADDRESS_ROW (netioapi.h): 80 bytes.
type mibUnicastIpAddressRow struct {
	Address            sockaddrInet
	InterfaceLuid      uint64
	InterfaceIndex     uint32
	PrefixOrigin       uint32 // NL_PREFIX_ORIGIN
	SuffixOrigin       uint32 // NL_SUFFIX_ORIGIN
	ValidLifetime      uint32
	PreferredLifetime  uint32
	OnLinkPrefixLength uint8
	SkipAsSource       uint8
	DadState           uint32 // NL_DAD_STATE
	ScopeId            uint32
	CreationTimeStamp  int64 // LARGE_INTEGER, 100 ns since 1601
}

// MIB_UNICASTIPADDRESS_TABLE and MIB_IPFORWARD_TABLE2: a count, then the
// rows, 8-byte aligned.
type (
	mibUnicastIpAddressTable struct {
		NumEntries uint32
		Table      [1]mibUnicastIpAddressRow
	}
	mibIpForwardTable2 struct {
		NumEntries uint32
		Table      [1]mibIpForwardRow2
	}
)

// NL_PREFIX_ORIGIN and NL_SUFFIX_ORIGIN values (nldef.h) this program
// uses.
const (
	prefixOriginOther     = 0
	prefixOriginManual    = 1
	prefixOriginWellKnown = 2
	prefixOriginDhcp      = 3
	suffixOriginManual    = 1
)

// NL_DAD_STATE IpDadStatePreferred (nldef.h).
const dadStatePreferred = 4

// NL_ROUTE_PROTOCOL values (nldef.h): RouteProtocolLocal (MIB_IPPROTO_LOCAL)
// marks the routes the stack derives from its addresses and interfaces;
// RouteProtocolNetMgmt (MIB_IPPROTO_NETMGMT) those added by hand.
const (
	routeProtocolLocal   = 2
	routeProtocolNetMgmt = 3
)

// infinite is the lifetime INFINITE (0xffffffff): a permanent address.
const infinite = 0xffffffff

// addrRowOf decodes an address row.
func addrRowOf(r *mibUnicastIpAddressRow) AddrRow {
	return AddrRow{
		Luid:    r.InterfaceLuid,
		Index:   r.InterfaceIndex,
		Addr:    r.Address.addr(),
		Bits:    int(r.OnLinkPrefixLength),
		Origin:  r.PrefixOrigin,
		Created: r.CreationTimeStamp,
	}
}

// routeRowOf decodes a route row.
func routeRowOf(r *mibIpForwardRow2) RouteRow {
	dst := r.DestinationPrefix.Prefix.addr()
	var p netip.Prefix
	if dst.IsValid() {
		p = netip.PrefixFrom(dst, int(r.DestinationPrefix.PrefixLength))
	}
	return RouteRow{
		Luid:     r.InterfaceLuid,
		Index:    r.InterfaceIndex,
		Dst:      p,
		NextHop:  r.NextHop.addr(),
		Metric:   r.Metric,
		Protocol: r.Protocol,
	}
}

// forwardRowOf returns the key fields of a route row, as
// DeleteIpForwardEntry2 wants them: the interface, the destination prefix
// and the next hop.
func forwardRowOf(r RouteRow) mibIpForwardRow2 {
	var row mibIpForwardRow2
	row.InterfaceLuid = r.Luid
	row.InterfaceIndex = r.Index
	row.DestinationPrefix.Prefix = sockaddrOf(r.Dst.Addr())
	row.DestinationPrefix.PrefixLength = uint8(r.Dst.Bits())
	if r.NextHop.IsValid() {
		row.NextHop = sockaddrOf(r.NextHop)
	} else {
		// An on-link route's next hop is the unspecified address of
		// its family.
		row.NextHop = sockaddrOf(unspecified(r.Dst.Addr()))
	}
	return row
}

// unspecified returns 0.0.0.0 or ::, a's family's unspecified address.
func unspecified(a netip.Addr) netip.Addr {
	if a.Is4() {
		return netip.IPv4Unspecified()
	}
	return netip.IPv6Unspecified()
}

// fillAddrRow sets, in a row InitializeUnicastIpAddressEntry initialized,
// what CreateUnicastIpAddressEntry needs to add p to ifc as routefuzz's
// add does: a manual, permanent address, preferred at once (no duplicate
// address detection to wait for, as WireGuard's winipcfg does).
func fillAddrRow(row *mibUnicastIpAddressRow, ifc Iface, p netip.Prefix) {
	row.Address = sockaddrOf(p.Addr())
	row.InterfaceLuid = ifc.Luid
	row.InterfaceIndex = ifc.Index
	row.OnLinkPrefixLength = uint8(p.Bits())
	row.PrefixOrigin = prefixOriginManual
	row.SuffixOrigin = suffixOriginManual
	row.ValidLifetime = infinite
	row.PreferredLifetime = infinite
	row.DadState = dadStatePreferred
}
