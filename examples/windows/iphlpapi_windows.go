//go:build windows && (amd64 || arm64)

package main

import (
	"fmt"
	"net/netip"
	"unsafe"

	"golang.org/x/sys/windows"
)

// The layouts of layout.go must have the sizes netioapi.h gives them on
// 64-bit Windows, which are also those of golang.org/x/sys/windows'
// declarations; each pair of arrays fails to compile when they differ.
var (
	_ [unsafe.Sizeof(mibIpForwardRow2{}) - 104]byte
	_ [104 - unsafe.Sizeof(mibIpForwardRow2{})]byte
	_ [unsafe.Sizeof(mibUnicastIpAddressRow{}) - 80]byte
	_ [80 - unsafe.Sizeof(mibUnicastIpAddressRow{})]byte
	_ [unsafe.Sizeof(windows.MibIpForwardRow2{}) - unsafe.Sizeof(mibIpForwardRow2{})]byte
	_ [unsafe.Sizeof(mibIpForwardRow2{}) - unsafe.Sizeof(windows.MibIpForwardRow2{})]byte
	_ [unsafe.Sizeof(windows.MibUnicastIpAddressRow{}) - unsafe.Sizeof(mibUnicastIpAddressRow{})]byte
	_ [unsafe.Sizeof(mibUnicastIpAddressRow{}) - unsafe.Sizeof(windows.MibUnicastIpAddressRow{})]byte
)

// The IP Helper functions this program calls. golang.org/x/sys/windows
// declares the table readers but not the functions that create and delete
// rows, so all are called through the DLL, with layout.go's structures.
var (
	iphlpapi                            = windows.NewLazySystemDLL("iphlpapi.dll")
	procGetUnicastIpAddressTable        = iphlpapi.NewProc("GetUnicastIpAddressTable")
	procGetIpForwardTable2              = iphlpapi.NewProc("GetIpForwardTable2")
	procInitializeUnicastIpAddressEntry = iphlpapi.NewProc("InitializeUnicastIpAddressEntry")
	procCreateUnicastIpAddressEntry     = iphlpapi.NewProc("CreateUnicastIpAddressEntry")
	procDeleteUnicastIpAddressEntry     = iphlpapi.NewProc("DeleteUnicastIpAddressEntry")
	procDeleteIpForwardEntry2           = iphlpapi.NewProc("DeleteIpForwardEntry2")
	procConvertInterfaceAliasToLuid     = iphlpapi.NewProc("ConvertInterfaceAliasToLuid")
	procConvertInterfaceLuidToIndex     = iphlpapi.NewProc("ConvertInterfaceLuidToIndex")

	// LOOKUPS (the Routes issue, not in yet): GetBestRoute2 is to answer
	// the protocol's lookup request once it has one, and
	// CreateIpForwardEntry2 (with DeleteIpForwardEntry2, which reset
	// already uses) its route operations. Neither is bound or called
	// yet; see the marked place in serve.go.
)

// winStack is the Windows stack, through iphlpapi.dll.
type winStack struct{}

func openStack() (Stack, error) {
	if err := iphlpapi.Load(); err != nil {
		return nil, err
	}
	for _, p := range []*windows.LazyProc{procGetUnicastIpAddressTable, procGetIpForwardTable2,
		procInitializeUnicastIpAddressEntry, procCreateUnicastIpAddressEntry, procDeleteUnicastIpAddressEntry,
		procDeleteIpForwardEntry2, procConvertInterfaceAliasToLuid, procConvertInterfaceLuidToIndex} {
		if err := p.Find(); err != nil {
			return nil, err
		}
	}
	return winStack{}, nil
}

// status turns an IP Helper result into an error.
func status(r uintptr) error {
	if r == 0 {
		return nil
	}
	return Errno(uint32(r))
}

func (winStack) Lookup(alias string) (Iface, error) {
	p, err := windows.UTF16PtrFromString(alias)
	if err != nil {
		return Iface{}, err
	}
	ifc := Iface{Alias: alias}
	r, _, _ := procConvertInterfaceAliasToLuid.Call(uintptr(unsafe.Pointer(p)), uintptr(unsafe.Pointer(&ifc.Luid)))
	if err := status(r); err != nil {
		return Iface{}, fmt.Errorf("no interface has this alias (Get-NetAdapter lists them): ConvertInterfaceAliasToLuid: %v", err)
	}
	r, _, _ = procConvertInterfaceLuidToIndex.Call(uintptr(unsafe.Pointer(&ifc.Luid)), uintptr(unsafe.Pointer(&ifc.Index)))
	if err := status(r); err != nil {
		return Iface{}, fmt.Errorf("ConvertInterfaceLuidToIndex: %v", err)
	}
	return ifc, nil
}

func (winStack) Addrs() ([]AddrRow, error) {
	var t *mibUnicastIpAddressTable
	r, _, _ := procGetUnicastIpAddressTable.Call(afUnspec, uintptr(unsafe.Pointer(&t)))
	if Errno(r) == errorNotFound { // no address at all
		return nil, nil
	}
	if err := status(r); err != nil {
		return nil, fmt.Errorf("GetUnicastIpAddressTable: %v", err)
	}
	defer windows.FreeMibTable(unsafe.Pointer(t))
	rows := unsafe.Slice(&t.Table[0], t.NumEntries)
	out := make([]AddrRow, 0, len(rows))
	for i := range rows {
		out = append(out, addrRowOf(&rows[i]))
	}
	return out, nil
}

func (winStack) Routes() ([]RouteRow, error) {
	var t *mibIpForwardTable2
	r, _, _ := procGetIpForwardTable2.Call(afUnspec, uintptr(unsafe.Pointer(&t)))
	if Errno(r) == errorNotFound { // no route at all
		return nil, nil
	}
	if err := status(r); err != nil {
		return nil, fmt.Errorf("GetIpForwardTable2: %v", err)
	}
	defer windows.FreeMibTable(unsafe.Pointer(t))
	rows := unsafe.Slice(&t.Table[0], t.NumEntries)
	out := make([]RouteRow, 0, len(rows))
	for i := range rows {
		out = append(out, routeRowOf(&rows[i]))
	}
	return out, nil
}

func (winStack) AddAddr(ifc Iface, p netip.Prefix) error {
	var row mibUnicastIpAddressRow
	procInitializeUnicastIpAddressEntry.Call(uintptr(unsafe.Pointer(&row)))
	fillAddrRow(&row, ifc, p)
	r, _, _ := procCreateUnicastIpAddressEntry.Call(uintptr(unsafe.Pointer(&row)))
	return status(r)
}

func (winStack) DelAddr(ifc Iface, a netip.Addr) error {
	var row mibUnicastIpAddressRow
	row.Address = sockaddrOf(a)
	row.InterfaceLuid = ifc.Luid
	row.InterfaceIndex = ifc.Index
	r, _, _ := procDeleteUnicastIpAddressEntry.Call(uintptr(unsafe.Pointer(&row)))
	return status(r)
}

func (winStack) DelRoute(ifc Iface, rt RouteRow) error {
	row := forwardRowOf(rt)
	row.InterfaceLuid, row.InterfaceIndex = ifc.Luid, ifc.Index
	r, _, _ := procDeleteIpForwardEntry2.Call(uintptr(unsafe.Pointer(&row)))
	return status(r)
}
