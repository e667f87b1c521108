package pools

import (
	"net/netip"
	"slices"
	"testing"
)

// The pools are what the generators and the decoder have always drawn:
// changing them would change every pinned seed and stored input, so they
// are pinned here value by value.
func TestPoolsPinned(t *testing.T) {
	str := func(as []netip.Addr) []string {
		var s []string
		for _, a := range as {
			s = append(s, a.String())
		}
		return s
	}
	if got, want := str(V4Nets), []string{"10.0.0.0", "10.0.1.0", "10.1.0.0", "0.0.0.0"}; !slices.Equal(got, want) {
		t.Errorf("V4Nets = %v; want %v", got, want)
	}
	if got, want := str(V6Nets), []string{"2001:db8:0:1::", "2001:db8:0:2::", "2001:db8:1:1::"}; !slices.Equal(got, want) {
		t.Errorf("V6Nets = %v; want %v", got, want)
	}
	if want := []byte{1, 2, 3, 0, 255}; !slices.Equal(V4Hosts, want) {
		t.Errorf("V4Hosts = %v; want %v", V4Hosts, want)
	}
	if want := []byte{1, 2, 3, 0}; !slices.Equal(V6Hosts, want) {
		t.Errorf("V6Hosts = %v; want %v", V6Hosts, want)
	}
	if want := []int{24, 16, 8, 31, 32}; !slices.Equal(V4Lengths, want) {
		t.Errorf("V4Lengths = %v; want %v", V4Lengths, want)
	}
	if want := []int{64, 48, 128, 127}; !slices.Equal(V6Lengths, want) {
		t.Errorf("V6Lengths = %v; want %v", V6Lengths, want)
	}
	for _, a := range V4Nets {
		if !a.Is4() || a.As4()[3] != 0 {
			t.Errorf("V4Nets: %s is not an IPv4 network with a zero last byte", a)
		}
	}
	for _, a := range V6Nets {
		if !a.Is6() || a.Is4In6() || a.As16()[15] != 0 {
			t.Errorf("V6Nets: %s is not an IPv6 network with a zero last byte", a)
		}
	}
}

func TestRoutePoolsPinned(t *testing.T) {
	var got []string
	for _, ps := range [][]netip.Prefix{V4RouteDsts, V6RouteDsts} {
		for _, p := range ps {
			got = append(got, p.String())
			if p != p.Masked() {
				t.Errorf("route destination %s has host bits", p)
			}
		}
	}
	want := []string{"0.0.0.0/0", "198.51.100.0/24", "10.0.0.0/24", "10.1.0.0/24", "10.0.0.0/16", "10.0.0.1/32",
		"::/0", "2001:db8:99::/64", "2001:db8:0:1::/64", "2001:db8:1:1::/64", "2001:db8::/48", "2001:db8:0:1::1/128"}
	if !slices.Equal(got, want) {
		t.Errorf("route destinations = %v; want %v", got, want)
	}
	if len(V4GatewayNets) != 4 || len(V6GatewayNets) != 4 || !slices.Equal(GatewayHosts, []byte{9, 254, 1}) {
		t.Errorf("gateway pools changed: %v %v %v", V4GatewayNets, V6GatewayNets, GatewayHosts)
	}
}
