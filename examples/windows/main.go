// Command routefuzz-windows points routefuzz at the Windows TCP/IP stack
// itself, the stack of the seed bug (Microsoft KB287032, Windows NT 4.0
// and 2000: routes went wrong when AddIPAddress added addresses to a
// multihomed computer). It serves the external-process protocol, version 1
// (PROTOCOL.md), on standard input and output, and drives the adapters the
// user names through the IP Helper API (iphlpapi.dll):
// CreateUnicastIpAddressEntry and DeleteUnicastIpAddressEntry for add and
// del, GetUnicastIpAddressTable and GetIpForwardTable2 for addrs and
// routes, DeleteIpForwardEntry2 to clear routes a reset finds left over.
//
//	GOOS=windows go build -o routefuzz-windows.exe ./examples/windows
//	routefuzz check -sut exec -exec "routefuzz-windows.exe -adapter 'Ethernet 2' -adapter 'Ethernet 3'"
//
// It has never run against a real Windows stack: see docs/windows.md for
// what is and is not verified, and how to run it (as Administrator, on
// Microsoft KM-TEST Loopback adapters made for it).
//
// It touches only the interfaces named with -adapter; reset binds the
// protocol's adapter names (a0, a1, ...) to them in order, and deletes
// every manual address on each. The protocol logic and the mapping of
// Windows' route table onto the model's grammar are portable (serve.go,
// table.go) and tested on Linux against a fake stack; only
// iphlpapi_windows.go calls Windows.
package main

import (
	"errors"
	"fmt"
	"log"
	"os"
)

func main() {
	log.SetFlags(0)
	log.SetPrefix("routefuzz-windows: ")
	args, err := ParseArgs(os.Args[1:])
	if errors.Is(err, errHelp) {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(0)
	}
	if err != nil {
		log.Printf("%v", err)
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	stack, err := openStack()
	if err != nil {
		log.Fatal(err)
	}
	srv, err := NewServer(args, stack, log.Printf)
	if err != nil {
		log.Fatal(err)
	}
	if err := srv.Serve(os.Stdin, os.Stdout); err != nil {
		log.Fatal(err)
	}
}
