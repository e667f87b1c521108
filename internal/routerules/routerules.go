// Package routerules holds the rules of user routes (docs/routes.md) as
// data, each as observed on Linux 6.18: op sequences with the user routes
// and lookups a correct stack shows after them, and single ops with the
// result they must give. The model's tests check the model against them;
// the kernel's and the fixed stack's tests replay them.
package routerules

import "github.com/routefuzz/routefuzz/model"

// A Sequence is ops, one per line, on adapters SequenceAdapters, with
// the user routes a correct stack shows after them (Want, in the order
// they were added, as model.State.UserRoutes lists them) and some lookups
// it answers (model.LookupResult lines).
type Sequence struct {
	Name                    string
	Promote, KeepAddrOnDown bool
	Ops, Want, Lookups      string
}

// SequenceAdapters are the adapters of every Sequence.
var SequenceAdapters = []string{"a0", "a1", "a2"}

// Config returns the configuration a Sequence runs with.
func (s Sequence) Config() model.Config {
	return model.Config{Adapters: SequenceAdapters, Promote: s.Promote, KeepAddrOnDown: s.KeepAddrOnDown}
}

// Sequences are the rules as sequences.
var Sequences = []Sequence{
	{Name: "forms", Ops: `add a0 10.1.0.1/24
add a0 2001:db8:1::1/64
route add 192.0.2.0/24 dev a0
route add 198.51.100.0/24 via 10.1.0.9 dev a0
route add default via 10.1.0.254 dev a0
route add 203.0.113.0/24 dev a0 src 10.1.0.1 metric 10
route add 2001:db8:99::/64 dev a0
route add default via 2001:db8:1::fe dev a0`,
		Want: `192.0.2.0/24 dev a0 proto boot
198.51.100.0/24 via 10.1.0.9 dev a0 proto boot
default via 10.1.0.254 dev a0 proto boot
203.0.113.0/24 dev a0 proto boot src 10.1.0.1 metric 10
2001:db8:99::/64 dev a0 proto boot metric 1024
default via 2001:db8:1::fe dev a0 proto boot metric 1024`,
		Lookups: `9.9.9.9 via 10.1.0.254 dev a0 src 10.1.0.1
198.51.100.0 via 10.1.0.9 dev a0 src 10.1.0.1
2001:db8:ffff:ffff::1 via 2001:db8:1::fe dev a0 src 2001:db8:1::1`},
	{Name: "last IPv4 address flushes the adapter's IPv4 routes", Ops: `add a0 10.1.0.1/24
add a0 10.3.0.1/24
add a0 2001:db8:1::1/64
route add 192.0.2.0/24 dev a0
route add 198.51.100.0/24 via 10.1.0.9 dev a0
route add 2001:db8:99::/64 dev a0
del a0 10.1.0.1/24`,
		Want: `192.0.2.0/24 dev a0 proto boot
198.51.100.0/24 via 10.1.0.9 dev a0 proto boot
2001:db8:99::/64 dev a0 proto boot metric 1024`},
	{Name: "last IPv4 address gone", Ops: `add a0 10.1.0.1/24
add a0 2001:db8:1::1/64
route add 192.0.2.0/24 dev a0
route add 2001:db8:99::/64 dev a0
del a0 10.1.0.1/24
del a0 2001:db8:1::1/64`,
		Want: `2001:db8:99::/64 dev a0 proto boot metric 1024`},
	{Name: "src held by another adapter", Ops: `add a0 10.1.0.1/24
add a1 10.2.0.1/24
add a1 10.1.0.1/24
route add 203.0.113.0/24 dev a1 src 10.1.0.1
add a0 2001:db8:1::1/64
add a1 2001:db8:1::1/64
route add 2001:db8:90::/64 dev a1 src 2001:db8:1::1
del a0 10.1.0.1/24
del a0 2001:db8:1::1/64`,
		Want: `203.0.113.0/24 dev a1 proto boot src 10.1.0.1
2001:db8:90::/64 dev a1 proto boot src 2001:db8:1::1 metric 1024`},
	{Name: "src gone: IPv4 deleted, IPv6 cleared", Ops: `add a0 10.1.0.1/24
add a0 10.3.0.1/24
add a1 10.2.0.1/24
route add 203.0.113.0/24 dev a1 src 10.1.0.1
add a0 2001:db8:1::1/64
add a1 2001:db8:2::1/64
route add 2001:db8:90::/64 dev a1 src 2001:db8:1::1
del a0 10.1.0.1/24
del a0 2001:db8:1::1/64
add a0 2001:db8:1::1/64`,
		Want: `2001:db8:90::/64 dev a1 proto boot metric 1024`},
	{Name: "down flushes, up does not restore", KeepAddrOnDown: true, Ops: `add a0 10.1.0.1/24
add a0 2001:db8:1::1/64
add a1 10.2.0.1/24
route add 192.0.2.0/24 dev a0
route add 2001:db8:99::/64 dev a0
route add 203.0.113.0/24 dev a1 src 10.1.0.1
down a0
up a0`,
		Want: `203.0.113.0/24 dev a1 proto boot src 10.1.0.1`},
	{Name: "down flushes IPv6 src", Ops: `add a0 2001:db8:1::1/64
add a1 2001:db8:2::1/64
route add 2001:db8:97::/64 dev a1 src 2001:db8:1::1
down a0`,
		Want: `2001:db8:97::/64 dev a1 proto boot metric 1024`},
	{Name: "carrier", Ops: `add a0 10.1.0.1/24
route add 192.0.2.0/24 dev a0
carrier a0 off
route add 198.51.100.0/24 via 10.1.0.9 dev a0`,
		Want: `192.0.2.0/24 dev a0 proto boot linkdown
198.51.100.0/24 via 10.1.0.9 dev a0 proto boot linkdown`,
		Lookups: `192.0.2.0 dev a0 src 10.1.0.1`},
	{Name: "unplug", Ops: `add a0 10.3.0.1/24
add a0 2001:db8:3::1/64
add a1 10.2.0.1/24
route add 203.0.114.0/24 via 10.3.0.9 dev a0
route add 203.0.113.0/24 dev a1 src 10.3.0.1
route add 2001:db8:96::/64 dev a1 src 2001:db8:3::1
unplug a0`,
		Want: `2001:db8:96::/64 dev a1 proto boot metric 1024`},
	{Name: "promotion deletes src routes of the old primary", Promote: true, Ops: `add a0 10.1.0.1/24
add a0 10.1.0.2/24
add a0 10.1.0.3/24
add a1 10.2.0.1/24
route add 192.0.2.0/24 dev a0
route add 203.0.113.0/24 dev a1 src 10.1.0.1
route add 203.0.114.0/24 dev a0 src 10.1.0.2
del a0 10.1.0.1/24`,
		Want: `192.0.2.0/24 dev a0 proto boot
203.0.114.0/24 dev a0 proto boot src 10.1.0.2`,
		Lookups: `192.0.2.0 dev a0 src 10.1.0.2`},
	{Name: "source: gateway's subnet, promoted primary last", Promote: true, Ops: `add a0 10.1.0.1/24
add a0 10.1.0.2/24
add a0 10.5.0.1/24
route add 192.0.2.0/24 dev a0
route add 198.51.99.0/24 via 10.5.0.9 dev a0
del a0 10.1.0.1/24`,
		Want: `192.0.2.0/24 dev a0 proto boot
198.51.99.0/24 via 10.5.0.9 dev a0 proto boot`,
		Lookups: `192.0.2.0 dev a0 src 10.5.0.1
198.51.99.0 via 10.5.0.9 dev a0 src 10.5.0.1`},
	{Name: "source: another adapter's, in creation order", Ops: `add a1 10.2.0.1/24
add a2 10.3.0.1/24
route add 192.0.2.0/24 dev a0`,
		Want:    `192.0.2.0/24 dev a0 proto boot`,
		Lookups: `192.0.2.0 dev a0 src 10.2.0.1`},
	{Name: "source: re-plugged adapter is last", Ops: `unplug a1
plug a1
add a1 10.2.0.1/24
add a2 10.3.0.1/24
route add 192.0.2.0/24 dev a0`,
		Want:    `192.0.2.0/24 dev a0 proto boot`,
		Lookups: `192.0.2.0 dev a0 src 10.3.0.1`},
	{Name: "IPv4 user route and kernel route of one key", Ops: `add a1 10.2.0.1/24
route add 10.1.0.0/24 dev a1
add a0 10.1.0.1/24`,
		Want:    `10.1.0.0/24 dev a1 proto boot`,
		Lookups: `10.1.0.2 dev a0 src 10.1.0.1 or dev a1 src 10.2.0.1`},
	{Name: "gateway on link by a user's dev route", Ops: `add a0 10.1.0.1/24
route add 192.0.2.0/24 dev a0
route add 198.51.100.0/24 via 192.0.2.5 dev a0
add a0 2001:db8:1::1/64
route add default dev a0 metric 5`,
		Want: `192.0.2.0/24 dev a0 proto boot
198.51.100.0/24 via 192.0.2.5 dev a0 proto boot
default dev a0 proto boot metric 5`},
	{Name: "IPv4 gateway that is the adapter's own address: lookups go on link", Ops: `add a0 10.1.0.1/24
add a1 10.2.0.1/24
route add 198.51.100.0/24 via 10.1.0.1 dev a0
route add 198.51.101.0/24 via 10.1.0.9 dev a0
add a0 10.1.0.9/24
add a0 10.3.0.1/24
route add 198.51.102.0/24 via 10.3.0.1 dev a0 src 10.2.0.1
del a0 10.3.0.1/24`,
		Want: `198.51.100.0/24 via 10.1.0.1 dev a0 proto boot
198.51.101.0/24 via 10.1.0.9 dev a0 proto boot
198.51.102.0/24 via 10.3.0.1 dev a0 proto boot src 10.2.0.1`,
		Lookups: `198.51.100.5 dev a0 src 10.1.0.1
198.51.101.5 via 10.1.0.9 dev a0 src 10.1.0.1
198.51.102.5 dev a0 src 10.2.0.1`},
	{Name: "local table first", Ops: `add a0 10.1.0.1/24
add a1 10.2.0.1/24
route add 10.1.0.1/32 dev a1
route add 10.1.0.255/32 dev a1`,
		Want: `10.1.0.1/32 dev a1 proto boot
10.1.0.255/32 dev a1 proto boot`,
		Lookups: `10.1.0.1 local src 10.1.0.1
10.1.0.255 broadcast dev a0 src 10.1.0.1`},
}

// A Result is an op and the result it must give (nil: success) after
// ResultSetup then Ops, on adapters ResultAdapters, promotion off.
type Result struct {
	Ops, Op string
	Want    error
}

// ResultSetup is applied before every Result's Ops.
const ResultSetup = `add a0 10.1.0.1/24
add a0 2001:db8:1::1/64
add a1 10.2.0.1/24
add a1 2001:db8:2::1/64
`

// ResultAdapters are the adapters of every Result.
var ResultAdapters = []string{"a0", "a1"}

// Results are the rules as single ops.
var Results = []Result{
	{"", "route add 198.51.100.0/24 via 10.9.0.1 dev a0", model.ErrUnreachable},
	{"", "route add 198.51.100.0/24 via 10.2.0.9 dev a0", model.ErrUnreachable},
	{"", "route add 198.51.100.0/24 via 10.1.0.255 dev a0", model.ErrInvalid},
	{"", "route add 198.51.100.0/24 via 10.1.0.1 dev a0", nil},
	{"", "route add 2001:db8:98::/64 via 2001:db8:9::1 dev a0", model.ErrUnreachable},
	{"", "route add 2001:db8:98::/64 via 2001:db8:1::1 dev a0", model.ErrInvalid},
	{"", "route add 2001:db8:98::/64 via 2001:db8:2::1 dev a0", model.ErrInvalid},
	{"route add 2001:db8:40::/64 dev a0\nroute add 2001:db8:40::/96 via 2001:db8:1::9 dev a0", "route add 2001:db8:41::/64 via 2001:db8:40::5 dev a0", model.ErrUnreachable},
	{"route add 192.0.2.0/24 dev a0\nroute add 192.0.2.0/28 via 10.1.0.9 dev a0 metric 1", "route add 198.51.100.0/24 via 192.0.2.5 dev a0", nil},
	{"", "route add 203.0.113.0/24 dev a0 src 10.1.0.77", model.ErrBadSource},
	{"", "route add 203.0.113.0/24 dev a0 src 10.2.0.1", nil},
	{"", "route add 2001:db8:97::/64 dev a0 src 2001:db8:1::77", model.ErrBadSource},
	{"route add 192.0.2.0/24 dev a0", "route add 192.0.2.0/24 dev a1", model.ErrExists},
	{"route add 192.0.2.0/24 dev a0", "route add 192.0.2.0/24 dev a1 metric 3", nil},
	{"", "route add 10.1.0.0/24 dev a0", model.ErrExists},
	{"", "route add 10.1.0.0/24 dev a0 metric 9", nil},
	{"", "route add 2001:db8:1::/64 dev a0 metric 256", model.ErrExists},
	{"route add 2001:db8:99::/64 dev a0", "route add 2001:db8:99::/64 dev a0 metric 1024", model.ErrExists},
	{"down a1", "route add 192.0.2.0/24 dev a1", model.ErrNetDown},
	{"down a1", "route add 192.0.2.0/24 via 10.2.0.9 dev a1", model.ErrUnreachable},
	{"down a1", "route add 192.0.2.0/24 via 10.2.0.1 dev a1", model.ErrNetDown},
	{"down a1", "route add 192.0.2.0/24 dev a1 src 10.9.9.9", model.ErrNetDown},
	{"carrier a1 off", "route add 192.0.2.0/24 via 10.2.0.9 dev a1", nil},
	{"unplug a1", "route add 192.0.2.0/24 dev a1", model.ErrInvalid},
	{"unplug a1", "route del 192.0.2.0/24 dev a1", model.ErrInvalid},
	{"", "route add 192.0.2.0/24 dev x9", model.ErrInvalid},
	{"", "route del 192.0.2.0/24 dev a0", model.ErrNotFound},
	{"", "route del 10.1.0.0/24 dev a0", model.ErrNotFound},
	{"route add 192.0.2.0/24 dev a0 metric 5", "route del 192.0.2.0/24 dev a0", model.ErrNotFound},
	{"route add 192.0.2.0/24 via 10.1.0.9 dev a0", "route del 192.0.2.0/24 dev a0", model.ErrNotFound},
	{"route add 192.0.2.0/24 via 10.1.0.9 dev a0 metric 7", "route del 192.0.2.0/24 via 10.1.0.9 dev a0 metric 7", nil},
	{"route add 192.0.2.0/24 dev a0 src 10.1.0.1", "route del 192.0.2.0/24 dev a0", nil},
	{"route add 2001:db8:99::/64 dev a0 src 2001:db8:1::1", "route del 2001:db8:99::/64 dev a0", nil},
	{"route add 2001:db8:99::/64 dev a0", "route del 2001:db8:99::/64 dev a0 metric 1024", nil},
}
