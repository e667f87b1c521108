package main

import (
	"encoding/binary"
	"net/netip"
	"testing"
	"unsafe"
)

// is64 says the layouts can be checked here: Go lays them out on 64-bit
// Linux exactly as on 64-bit Windows.
const is64 = unsafe.Sizeof(uintptr(0)) == 8

// TestLayoutSizes checks the sizes and offsets netioapi.h gives the
// structures on 64-bit Windows.
func TestLayoutSizes(t *testing.T) {
	if !is64 {
		t.Skip("the layouts are those of 64-bit Windows")
	}
	var f mibIpForwardRow2
	var u mibUnicastIpAddressRow
	for _, c := range []struct {
		name      string
		got, want uintptr
	}{
		{"sizeof(SOCKADDR_INET)", unsafe.Sizeof(sockaddrInet{}), 28},
		{"alignof(SOCKADDR_INET)", unsafe.Alignof(sockaddrInet{}), 4},
		{"sizeof(IP_ADDRESS_PREFIX)", unsafe.Sizeof(ipAddressPrefix{}), 32},
		{"sizeof(MIB_IPFORWARD_ROW2)", unsafe.Sizeof(f), 104},
		{"MIB_IPFORWARD_ROW2.InterfaceIndex", unsafe.Offsetof(f.InterfaceIndex), 8},
		{"MIB_IPFORWARD_ROW2.DestinationPrefix", unsafe.Offsetof(f.DestinationPrefix), 12},
		{"MIB_IPFORWARD_ROW2.NextHop", unsafe.Offsetof(f.NextHop), 44},
		{"MIB_IPFORWARD_ROW2.SitePrefixLength", unsafe.Offsetof(f.SitePrefixLength), 72},
		{"MIB_IPFORWARD_ROW2.ValidLifetime", unsafe.Offsetof(f.ValidLifetime), 76},
		{"MIB_IPFORWARD_ROW2.Metric", unsafe.Offsetof(f.Metric), 84},
		{"MIB_IPFORWARD_ROW2.Protocol", unsafe.Offsetof(f.Protocol), 88},
		{"MIB_IPFORWARD_ROW2.Loopback", unsafe.Offsetof(f.Loopback), 92},
		{"MIB_IPFORWARD_ROW2.Age", unsafe.Offsetof(f.Age), 96},
		{"MIB_IPFORWARD_ROW2.Origin", unsafe.Offsetof(f.Origin), 100},
		{"sizeof(MIB_UNICASTIPADDRESS_ROW)", unsafe.Sizeof(u), 80},
		{"MIB_UNICASTIPADDRESS_ROW.InterfaceLuid", unsafe.Offsetof(u.InterfaceLuid), 32},
		{"MIB_UNICASTIPADDRESS_ROW.InterfaceIndex", unsafe.Offsetof(u.InterfaceIndex), 40},
		{"MIB_UNICASTIPADDRESS_ROW.PrefixOrigin", unsafe.Offsetof(u.PrefixOrigin), 44},
		{"MIB_UNICASTIPADDRESS_ROW.SuffixOrigin", unsafe.Offsetof(u.SuffixOrigin), 48},
		{"MIB_UNICASTIPADDRESS_ROW.ValidLifetime", unsafe.Offsetof(u.ValidLifetime), 52},
		{"MIB_UNICASTIPADDRESS_ROW.PreferredLifetime", unsafe.Offsetof(u.PreferredLifetime), 56},
		{"MIB_UNICASTIPADDRESS_ROW.OnLinkPrefixLength", unsafe.Offsetof(u.OnLinkPrefixLength), 60},
		{"MIB_UNICASTIPADDRESS_ROW.SkipAsSource", unsafe.Offsetof(u.SkipAsSource), 61},
		{"MIB_UNICASTIPADDRESS_ROW.DadState", unsafe.Offsetof(u.DadState), 64},
		{"MIB_UNICASTIPADDRESS_ROW.ScopeId", unsafe.Offsetof(u.ScopeId), 68},
		{"MIB_UNICASTIPADDRESS_ROW.CreationTimeStamp", unsafe.Offsetof(u.CreationTimeStamp), 72},
		{"MIB_UNICASTIPADDRESS_TABLE.Table", unsafe.Offsetof(mibUnicastIpAddressTable{}.Table), 8},
		{"MIB_IPFORWARD_TABLE2.Table", unsafe.Offsetof(mibIpForwardTable2{}.Table), 8},
	} {
		if c.got != c.want {
			t.Errorf("%s = %d, want %d", c.name, c.got, c.want)
		}
	}
}

// TestDecodeRouteRow decodes a MIB_IPFORWARD_ROW2 written byte by byte at
// the SDK's offsets, as iphlpapi.dll would write it.
func TestDecodeRouteRow(t *testing.T) {
	if !is64 {
		t.Skip("the layouts are those of 64-bit Windows")
	}
	var img [104]byte
	le := binary.LittleEndian
	le.PutUint64(img[0:], 0x0006000000001234) // InterfaceLuid
	le.PutUint32(img[8:], 17)                 // InterfaceIndex
	le.PutUint16(img[12:], afInet6)           // DestinationPrefix.Prefix.si_family
	copy(img[12+8:], netip.MustParseAddr("2001:db8:0:1::").AsSlice())
	img[12+28] = 64                 // DestinationPrefix.PrefixLength
	le.PutUint16(img[44:], afInet6) // NextHop: ::
	le.PutUint32(img[84:], 256)     // Metric
	le.PutUint32(img[88:], routeProtocolLocal)
	row := (*mibIpForwardRow2)(unsafe.Pointer(&img))
	got := routeRowOf(row)
	want := RouteRow{Luid: 0x0006000000001234, Index: 17, Dst: netip.MustParsePrefix("2001:db8:0:1::/64"),
		NextHop: netip.IPv6Unspecified(), Metric: 256, Protocol: routeProtocolLocal}
	if got != want {
		t.Errorf("decoded %+v\nwant    %+v", got, want)
	}

	img = [104]byte{}
	le.PutUint16(img[12:], afInet)
	copy(img[12+4:], []byte{10, 0, 0, 255})
	img[12+28] = 32
	le.PutUint16(img[44:], afInet)
	copy(img[44+4:], []byte{10, 0, 0, 254})
	got = routeRowOf((*mibIpForwardRow2)(unsafe.Pointer(&img)))
	if got.Dst != netip.MustParsePrefix("10.0.0.255/32") || got.NextHop != netip.MustParseAddr("10.0.0.254") {
		t.Errorf("decoded %+v, want 10.0.0.255/32 via 10.0.0.254", got)
	}

	// Encoding for DeleteIpForwardEntry2 gives the same bytes back.
	enc := forwardRowOf(got)
	b := (*[104]byte)(unsafe.Pointer(&enc))
	if b[12+4] != 10 || b[12+7] != 255 || b[12+28] != 32 || b[44+7] != 254 || le.Uint16(b[12:]) != afInet {
		t.Errorf("forwardRowOf encodes % x", b[:])
	}
}

// TestDecodeAddrRow decodes a MIB_UNICASTIPADDRESS_ROW written at the
// SDK's offsets.
func TestDecodeAddrRow(t *testing.T) {
	if !is64 {
		t.Skip("the layouts are those of 64-bit Windows")
	}
	var img [80]byte
	le := binary.LittleEndian
	le.PutUint16(img[0:], afInet)
	copy(img[4:], []byte{10, 0, 1, 3})
	le.PutUint64(img[32:], 42) // InterfaceLuid
	le.PutUint32(img[40:], 7)  // InterfaceIndex
	le.PutUint32(img[44:], prefixOriginManual)
	img[60] = 24                                 // OnLinkPrefixLength
	le.PutUint64(img[72:], uint64(133000000000)) // CreationTimeStamp
	got := addrRowOf((*mibUnicastIpAddressRow)(unsafe.Pointer(&img)))
	want := AddrRow{Luid: 42, Index: 7, Addr: netip.MustParseAddr("10.0.1.3"), Bits: 24, Origin: prefixOriginManual, Created: 133000000000}
	if got != want {
		t.Errorf("decoded %+v\nwant    %+v", got, want)
	}

	var row mibUnicastIpAddressRow
	fillAddrRow(&row, Iface{Luid: 42, Index: 7}, netip.MustParsePrefix("2001:db8::1/64"))
	b := (*[80]byte)(unsafe.Pointer(&row))
	if le.Uint16(b[0:]) != afInet6 || netip.AddrFrom16([16]byte(b[8:24])) != netip.MustParseAddr("2001:db8::1") ||
		le.Uint64(b[32:]) != 42 || b[60] != 64 || le.Uint32(b[44:]) != prefixOriginManual ||
		le.Uint32(b[52:]) != infinite || le.Uint32(b[56:]) != infinite || le.Uint32(b[64:]) != dadStatePreferred {
		t.Errorf("fillAddrRow wrote % x", b[:])
	}
}

func TestSockaddrRoundTrip(t *testing.T) {
	for _, s := range []string{"0.0.0.0", "10.0.0.1", "255.255.255.255", "::", "2001:db8:0:1::2", "fe80::1"} {
		a := netip.MustParseAddr(s)
		sa := sockaddrOf(a)
		if got := sa.addr(); got != a {
			t.Errorf("sockaddrOf(%s).addr() = %s", a, got)
		}
	}
	var none sockaddrInet
	if none.addr().IsValid() {
		t.Errorf("AF_UNSPEC decodes as %s", none.addr())
	}
}
