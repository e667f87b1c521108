package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"strings"

	"github.com/routefuzz/routefuzz/model"
)

// Stack is the IP Helper API as this program uses it: the real one on
// Windows (iphlpapi_windows.go), a fake in the tests. Mutations take the
// interface they act on; the Server never passes one the user did not
// name.
type Stack interface {
	// Lookup finds an interface by its alias.
	Lookup(alias string) (Iface, error)
	// Addrs returns every unicast address of every interface, both
	// families (GetUnicastIpAddressTable).
	Addrs() ([]AddrRow, error)
	// Routes returns every route of both families (GetIpForwardTable2).
	Routes() ([]RouteRow, error)
	// AddAddr adds a permanent manual address (CreateUnicastIpAddressEntry).
	AddAddr(ifc Iface, p netip.Prefix) error
	// DelAddr deletes an address (DeleteUnicastIpAddressEntry).
	DelAddr(ifc Iface, a netip.Addr) error
	// DelRoute deletes a route (DeleteIpForwardEntry2).
	DelRoute(ifc Iface, r RouteRow) error
}

// Errno is a Win32 error code that an IP Helper function returned.
type Errno uint32

// Win32 error codes (winerror.h) that IP Helper returns.
const (
	errorFileNotFound        Errno = 2
	errorAccessDenied        Errno = 5
	errorInvalidParameter    Errno = 87
	errorNotSupported        Errno = 50
	errorAlreadyExists       Errno = 183
	errorNotFound            Errno = 1168
	errorObjectAlreadyExists Errno = 5010
)

func (e Errno) Error() string {
	switch e {
	case errorFileNotFound:
		return "ERROR_FILE_NOT_FOUND"
	case errorAccessDenied:
		return "ERROR_ACCESS_DENIED (run as Administrator)"
	case errorInvalidParameter:
		return "ERROR_INVALID_PARAMETER"
	case errorNotSupported:
		return "ERROR_NOT_SUPPORTED"
	case errorAlreadyExists:
		return "ERROR_ALREADY_EXISTS"
	case errorNotFound:
		return "ERROR_NOT_FOUND"
	case errorObjectAlreadyExists:
		return "ERROR_OBJECT_ALREADY_EXISTS"
	}
	return fmt.Sprintf("Win32 error %d", uint32(e))
}

// Answer returns the protocol's answer to an add or del that failed with
// err: "err exists", "err notfound" or "err invalid", each with the error
// as text. An error that is not a result of the operation (access denied,
// an unknown code) is "err unsupported": routefuzz stops with a harness
// failure that shows it, rather than take it for a result.
func Answer(kind model.OpKind, err error) string {
	var e Errno
	if !errors.As(err, &e) {
		return "err unsupported " + err.Error()
	}
	switch {
	case e == errorObjectAlreadyExists || e == errorAlreadyExists:
		return "err exists " + e.Error()
	case kind == model.Del && (e == errorNotFound || e == errorFileNotFound):
		return "err notfound " + e.Error()
	case e == errorInvalidParameter || e == errorNotFound || e == errorFileNotFound:
		return "err invalid " + e.Error()
	}
	return "err unsupported " + err.Error()
}

// Server answers the protocol's requests on a Stack.
type Server struct {
	args   Args
	stack  Stack
	ifaces []Iface          // the interfaces named on the command line, in order
	named  map[uint64]bool  // their LUIDs
	names  []string         // the adapter names of the last reset, bound to ifaces[:len(names)]
	byName map[string]Iface // name → interface
	bound  Bound            // LUID → name
	log    func(string, ...any)
}

// NewServer looks up every named interface, and fails when one is missing
// or two aliases name one interface.
func NewServer(args Args, stack Stack, log func(string, ...any)) (*Server, error) {
	s := &Server{args: args, stack: stack, named: map[uint64]bool{}, log: log}
	for _, alias := range args.Adapters {
		ifc, err := stack.Lookup(alias)
		if err != nil {
			return nil, fmt.Errorf("-adapter %q: %v", alias, err)
		}
		if s.named[ifc.Luid] {
			return nil, fmt.Errorf("-adapter %q: names an interface already named", alias)
		}
		s.named[ifc.Luid] = true
		s.ifaces = append(s.ifaces, ifc)
	}
	return s, nil
}

// Hello is the handshake's answer: what this program declares.
//
//   - kinds: all three; MapRoutes says which Windows rows are which.
//   - promote=1: Windows has no primary address; deleting one address
//     leaves the others of its subnet and their routes, as Linux does with
//     promote_secondaries=1 (with 0, Linux deletes the secondaries).
//   - metrics=0, noprefixroute=0, lifetimes=0: the address metric and
//     noprefixroute are Linux's; Windows has the interface metric and
//     CreateUnicastIpAddressEntry makes the prefix route always. Lifetimes
//     exist (ValidLifetime, PreferredLifetime) but are not taken yet.
//   - ops=add,del: down/up, unplug/plug and carrier need adapter control
//     (disable, enable, remove the adapter, its media state) that the IP
//     Helper API does not give; change is not taken without attributes.
func (s *Server) Hello() string {
	return "hello routefuzz 1 kinds=connected,local,broadcast promote=1 families=" + s.args.Families() +
		" metrics=0 noprefixroute=0 lifetimes=0 ops=add,del"
}

// guard fails when ifc is not an interface the user named. Every mutation
// goes through it, a second line behind the binding.
func (s *Server) guard(ifc Iface) error {
	if !s.named[ifc.Luid] {
		return fmt.Errorf("refusing to touch interface %q (LUID %#x): not named with -adapter", ifc.Alias, ifc.Luid)
	}
	return nil
}

// Reset binds names to the named interfaces, in order, and deletes every
// manual address on every named interface, then every route left on them
// that MapRoutes would report. It fails when more names are given than
// interfaces were named, and when anything is left.
func (s *Server) Reset(names []string) error {
	s.names, s.byName, s.bound = nil, nil, nil // unbound until clean
	if len(names) == 0 {
		return fmt.Errorf("reset names no adapter")
	}
	for i, n := range names {
		if err := checkName(n); err != nil {
			return err
		}
		if slices.Contains(names[:i], n) {
			return fmt.Errorf("reset names %s twice", n)
		}
	}
	if len(names) > len(s.ifaces) {
		return fmt.Errorf("reset names %d adapters (%s) but only %d interfaces were named with -adapter; name more, or run routefuzz with -adapters %d",
			len(names), strings.Join(names, " "), len(s.ifaces), len(s.ifaces))
	}
	byName := map[string]Iface{}
	bound := Bound{}
	for i, n := range names {
		byName[n] = s.ifaces[i]
		bound[s.ifaces[i].Luid] = n
	}
	if err := s.clean(); err != nil {
		return err
	}
	s.names, s.byName, s.bound = names, byName, bound
	return nil
}

// clean deletes our addresses and reportable routes on the named
// interfaces, then checks that none is left.
func (s *Server) clean() error {
	byLuid := map[uint64]Iface{}
	for _, ifc := range s.ifaces {
		byLuid[ifc.Luid] = ifc
	}
	addrs, err := s.stack.Addrs()
	if err != nil {
		return err
	}
	for _, a := range addrs {
		if ifc, ok := byLuid[a.Luid]; ok && Ours(a) {
			if err := s.delAddr(ifc, a.Addr); err != nil {
				return fmt.Errorf("deleting %s from %q: %v", a.Prefix(), ifc.Alias, err)
			}
		}
	}
	routes, err := s.stack.Routes()
	if err != nil {
		return err
	}
	for _, r := range routes {
		if ifc, ok := byLuid[r.Luid]; ok && Reportable(r) {
			s.log("reset: deleting route %s on %q, left after its addresses were deleted", r.Dst, ifc.Alias)
			if err := s.guard(ifc); err != nil {
				return err
			}
			if err := s.stack.DelRoute(ifc, r); err != nil {
				return fmt.Errorf("deleting route %s from %q: %v", r.Dst, ifc.Alias, err)
			}
		}
	}
	if addrs, err = s.stack.Addrs(); err != nil {
		return err
	}
	if routes, err = s.stack.Routes(); err != nil {
		return err
	}
	all := Bound{}
	for _, ifc := range s.ifaces {
		all[ifc.Luid] = strings.ReplaceAll(ifc.Alias, " ", "_")
	}
	if left := MapAddrs(addrs, all); len(left) > 0 {
		return fmt.Errorf("addresses left after reset: %v", left)
	}
	if left := MapRoutes(addrs, routes, all); len(left) > 0 {
		return fmt.Errorf("routes left after reset: %s", strings.TrimSpace(left.String()))
	}
	return nil
}

func (s *Server) delAddr(ifc Iface, a netip.Addr) error {
	if err := s.guard(ifc); err != nil {
		return err
	}
	return s.stack.DelAddr(ifc, a)
}

// checkName says what is wrong with a protocol adapter name, nil when
// nothing: 1 to 15 characters from [A-Za-z0-9_.-].
func checkName(n string) error {
	_, err := model.ParseAddr(n + " 10.0.0.1/32")
	if err != nil {
		return fmt.Errorf("bad adapter name %q in reset", n)
	}
	return nil
}

// Op applies an op line and returns its answer line.
func (s *Server) Op(line string) string {
	op, err := model.ParseOp(line)
	if err != nil {
		return "err invalid " + err.Error()
	}
	if op.Kind != model.Add && op.Kind != model.Del {
		return "err unsupported " + op.Kind.String() + " is not declared (ops=add,del)"
	}
	if op.Metric != 0 || op.NoPrefixRoute || op.ValidLft != 0 || op.PreferredLft != 0 {
		return "err unsupported attributes are not declared (metrics=0 noprefixroute=0 lifetimes=0)"
	}
	ifc, ok := s.byName[op.Adapter]
	if !ok {
		if s.names == nil {
			return fmt.Sprintf("err invalid no adapter %s (no reset has succeeded)", op.Adapter)
		}
		return fmt.Sprintf("err invalid no adapter %s (reset named %s)", op.Adapter, strings.Join(s.names, " "))
	}
	if err := s.guard(ifc); err != nil { // cannot happen: reset binds only named interfaces
		return "err unsupported " + err.Error()
	}
	p := op.Prefix
	if p.Addr().Is4() && !s.args.IPv4 || p.Addr().Is6() && !s.args.IPv6 {
		return "err unsupported family not declared: " + p.String()
	}
	if op.Kind == model.Add {
		if err := s.stack.AddAddr(ifc, p); err != nil {
			return Answer(op.Kind, err)
		}
		return "ok"
	}
	// DeleteUnicastIpAddressEntry takes the address without its length,
	// and would delete it at any length; del means the address at this
	// length only.
	addrs, err := s.stack.Addrs()
	if err != nil {
		return "err unsupported " + err.Error()
	}
	for _, a := range addrs {
		if a.Luid == ifc.Luid && a.Addr == p.Addr() && Ours(a) {
			if a.Bits != p.Bits() {
				return fmt.Sprintf("err notfound %s is on %s as %s", p, op.Adapter, a.Prefix())
			}
			if err := s.delAddr(ifc, p.Addr()); err != nil {
				return Answer(op.Kind, err)
			}
			return "ok"
		}
	}
	return fmt.Sprintf("err notfound %s is not on %s", p, op.Adapter)
}

// RouteLines returns the routes answer, without the final ".".
func (s *Server) RouteLines() ([]string, error) {
	addrs, err := s.stack.Addrs()
	if err != nil {
		return nil, err
	}
	routes, err := s.stack.Routes()
	if err != nil {
		return nil, err
	}
	var out []string
	for _, r := range MapRoutes(addrs, routes, s.bound) {
		out = append(out, r.String())
	}
	return out, nil
}

// AddrLines returns the addrs answer, without the final ".".
func (s *Server) AddrLines() ([]string, error) {
	addrs, err := s.stack.Addrs()
	if err != nil {
		return nil, err
	}
	var out []string
	for _, a := range MapAddrs(addrs, s.bound) {
		out = append(out, a.String())
	}
	return out, nil
}

// Serve answers requests from in on out until quit or the end of in.
func (s *Server) Serve(in io.Reader, out io.Writer) error {
	sc := bufio.NewScanner(in)
	w := bufio.NewWriter(out)
	for sc.Scan() {
		req := sc.Text()
		verb, rest, _ := strings.Cut(req, " ")
		var lines []string
		switch verb {
		case "hello":
			if rest != "routefuzz 1" {
				return fmt.Errorf("harness speaks %q; this program speaks version 1", req)
			}
			lines = []string{s.Hello()}
		case "reset":
			if err := s.Reset(strings.Fields(rest)); err != nil {
				s.log("%s: %v", req, err)
				lines = []string{oneLine("err invalid " + err.Error())}
			} else {
				lines = []string{"ok"}
			}
		case "add", "del", "down", "up", "unplug", "plug", "change", "carrier":
			lines = []string{oneLine(s.Op(req))}
		case "routes", "addrs":
			list := s.RouteLines
			if verb == "addrs" {
				list = s.AddrLines
			}
			l, err := list()
			if err != nil {
				// No answer is better than a wrong one: exiting makes
				// routefuzz report a crash with this message.
				return fmt.Errorf("%s: %v", verb, err)
			}
			lines = append(l, ".")
		// LOOKUPS (the Routes issue, not in yet): when the protocol gains
		// its lookup request, it is answered here with GetBestRoute2 (see
		// the marked place in iphlpapi_windows.go), and declared in Hello.
		// Until then a lookup is "err unsupported", like any request this
		// program does not know.
		case "quit":
			return w.Flush()
		default:
			lines = []string{"err unsupported " + strings.TrimSpace(verb)}
		}
		for _, l := range lines {
			fmt.Fprintln(w, l)
		}
		if err := w.Flush(); err != nil {
			return err
		}
	}
	return sc.Err()
}

// oneLine keeps an answer on one line.
func oneLine(s string) string {
	return strings.NewReplacer("\r", " ", "\n", " ").Replace(s)
}
