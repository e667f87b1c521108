package props

import (
	"net/netip"
	"slices"

	"github.com/routefuzz/routefuzz/model"
)

// Known bugs of gVisor's netstack (sut/gvisor) and of its sentry's netlink
// layer. Each is recorded in corpus/ as a case marked "diverges: gvisor"
// (or gvisor-raw), and in docs/gvisor.md with the gVisor source that
// explains it. Documented differences, which are no bugs, are not here:
// the gVisor profile of the model (sut/gvisor, Ref) covers them.
//
// "gvisor" is the sentry's stack (subnet routes added and removed with
// addresses), "gvisor-raw" the netstack API alone.
func init() {
	both := []string{"gvisor", "gvisor-raw"}
	RegisterExclusion(Exclusion{
		Name: "gvisor-sentry-subnet-route-loss",
		Doc: "gVisor's sentry: deleting an address removes its subnet's route though another address of the NIC is in " +
			"that subnet and still needs it (RemoveInterfaceAddr, pkg/sentry/socket/netstack/stack.go:697-705); " +
			"KB287032's symptom (corpus/gvisor-sentry-subnet-route-loss-bad.txtar)",
		Stacks: []string{"gvisor"},
		Match:  gvisorSubnetRouteLoss,
	})
	RegisterExclusion(Exclusion{
		Name: "gvisor-ipv6-down-history",
		Doc: "gVisor: an IPv6 address added while its NIC is disabled stays tentative (DAD starts only if the endpoint " +
			"is enabled: tcpip/network/ipv6/ipv6.go:2000-2013) and is not local, while one added before the NIC was " +
			"disabled stays local: the answer depends on the order (corpus/gvisor-ipv6-down-history-bad.txtar)",
		Stacks: both,
		Match:  gvisorV6AddWhileDown,
	})
	RegisterExclusion(Exclusion{
		Name: "gvisor-held-source-deleted",
		Doc: "gVisor: an address deleted while a held route (an open connection: the hold op) uses it as its source " +
			"stays in its NIC's primary list, so re-adding it puts it back at its old place, ahead of addresses added " +
			"since, and at its old length whatever the add says (addressable_endpoint_state.go, RemovePermanentAddress " +
			"leaves a referenced endpoint in the list; corpus/gvisor-raw-held-source-deleted-bad.txtar)",
		Stacks: both,
		Match:  gvisorHeldSourceDeleted,
	})
	RegisterExclusion(Exclusion{
		Name: "gvisor-unspecified-address",
		Doc: "gVisor: 0.0.0.0 is accepted as an address and listed; nothing checks it (tcpip/network/ipv4/ipv4.go:1483, " +
			"and ipv6.go:1976 \"TODO(b/169350103): add checks here\") (corpus/gvisor-unspecified-address-bad.txtar)",
		Stacks: both,
		Match:  gvisorUnspecified,
	})
}

// gvisorSubnetRouteLoss matches the del of an address its adapter holds,
// at any length (gVisor's RemoveAddress takes none), while another address
// of the adapter has the subnet of the del's prefix: the sentry removes
// the route to that subnet.
func gvisorSubnetRouteLoss(st *model.State, op model.Op) bool {
	if op.Kind != model.Del {
		return false
	}
	es := st.On(op.Adapter)
	a := op.Prefix.Addr()
	return slices.ContainsFunc(es, func(e model.Entry) bool { return e.Prefix.Addr() == a }) &&
		slices.ContainsFunc(es, func(e model.Entry) bool { return e.Prefix.Addr() != a && e.Prefix.Masked() == op.Prefix.Masked() })
}

// gvisorV6AddWhileDown matches the add of an IPv6 address to an adapter
// that is down.
func gvisorV6AddWhileDown(st *model.State, op model.Op) bool {
	return op.Kind == model.Add && op.Prefix.Addr().Is6() && st.IsDown(op.Adapter) && !st.IsUnplugged(op.Adapter)
}

// gvisorUnspecified matches the add of 0.0.0.0 (at any length).
func gvisorUnspecified(_ *model.State, op model.Op) bool {
	return op.Kind == model.Add && op.Prefix.Addr() == netip.IPv4Unspecified()
}

// gvisorHeldSourceDeleted matches the del of an address that a held
// route may use as its source (model.State.HeldSources).
func gvisorHeldSourceDeleted(st *model.State, op model.Op) bool {
	return op.Kind == model.Del && slices.Contains(st.HeldSources(), op.Prefix.Addr())
}
