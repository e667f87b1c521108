package model

import (
	"math/rand/v2"
	"net/netip"
	"strings"
	"testing"
)

func randomPrefix(r *rand.Rand) netip.Prefix {
	if r.IntN(2) == 0 {
		var b [4]byte
		for i := range b {
			b[i] = byte(r.IntN(256))
		}
		return netip.PrefixFrom(netip.AddrFrom4(b), r.IntN(33))
	}
	var b [16]byte
	for i := range b {
		b[i] = byte(r.IntN(256))
	}
	return netip.PrefixFrom(netip.AddrFrom16(b).Unmap(), r.IntN(129))
}

func TestOpRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 10000 {
		op := Op{Kind: OpKind(1 + r.IntN(2)), Adapter: []string{"a0", "eth1", "br-x.2", "A_b-9"}[r.IntN(4)], Prefix: randomPrefix(r)}
		if op.Kind == Add && r.IntN(2) == 0 {
			op.Metric = r.Uint32()
		}
		got, err := ParseOp(op.String())
		if err != nil || got != op {
			t.Fatalf("ParseOp(%q) = %v, %v; want %v", op.String(), got, err, op)
		}
	}
}

func TestRouteRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for range 10000 {
		p := randomPrefix(r)
		rt := Route{Kind: AllKinds[r.IntN(3)], Dst: p.Masked(), Dev: "a1", Metric: uint32(r.IntN(3)) * 100}
		if r.IntN(2) == 0 {
			rt.Src = randomUnicast(r, p.Addr().Is4())
		}
		if rt.Kind == Connected && r.IntN(2) == 0 {
			rt.Via = randomUnicast(r, p.Addr().Is4())
			rt.Proto = ProtoBoot
		}
		if r.IntN(8) == 0 {
			rt.Dst = netip.PrefixFrom(p.Addr(), 0).Masked()
		}
		rt.Linkdown = r.IntN(2) == 0
		got, err := ParseRoute(rt.String())
		if err != nil || got != rt {
			t.Fatalf("ParseRoute(%q) = %v, %v; want %v", rt.String(), got, err, rt)
		}
	}
}

func TestTableRoundTrip(t *testing.T) {
	s := run(t, false, "a0 a1", "add a0 10.0.0.1/24\nadd a1 10.0.0.2/24 metric 4\nadd a0 2001:db8::1/64")
	tbl := s.Routes()
	got, err := ParseTable(tbl.String())
	if err != nil || !got.Equal(tbl) {
		t.Fatalf("ParseTable round trip: %v\n%s", err, got)
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct{ in, msg string }{
		{"", "empty op"},
		{"ad a0 10.0.0.1/24", `unknown verb "ad"`},
		{"add a0", "want add ADAPTER ADDRESS/LENGTH"},
		{"add a0 10.0.0.1", "has no prefix length"},
		{"add a0 10.0.0.1/33", "bad prefix"},
		{"add a0 300.0.0.1/24", "bad prefix"},
		{"add a0 fe80::1%eth0/64", "bad prefix"},
		{"add a0 ::ffff:10.0.0.1/120", "IPv4-mapped"},
		{"add bad/name 10.0.0.1/24", "bad adapter name"},
		{"add abcdefghijklmnop 10.0.0.1/24", "1 to 15 characters"},
		{"add a0 10.0.0.1/24 metric", "metric needs a value"},
		{"add a0 10.0.0.1/24 metric -1", "bad metric"},
		{"add a0 10.0.0.1/24 metric 5 extra", `unexpected "extra"`},
		{"del a0 10.0.0.1/24 metric 5", `unexpected "metric"`},
		{"add a0 10.0.0.1/24 proto kernel", `unexpected "proto"`},
		{"add a0 10.0.0.1/24 noprefixroute noprefixroute", `unexpected "noprefixroute" after the noprefixroute`},
		{"add a0 10.0.0.1/24 noprefixroute 1", `unexpected "1" after the noprefixroute`},
		{"add a0 10.0.0.1/24 valid_lft", "valid_lft needs a value"},
		{"carrier a0", "want carrier ADAPTER on|off"},
		{"carrier a0 up", `bad state "up": want on or off`},
		{"carrier a0 on metric 5", `unexpected "metric" after the on or off`},
		{"down a0 off", `unexpected "off" after the adapter`},
	} {
		_, err := ParseOp(tc.in)
		if err == nil || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("ParseOp(%q) = %v; want an error containing %q", tc.in, err, tc.msg)
		}
	}
	for _, tc := range []struct{ in, msg string }{
		{"10.0.0.1/24 dev a0", "host bits"},
		{"10.0.0.0/24 a0", "want [local|broadcast] DST"},
		{"multicast 10.0.0.0/24 dev a0", "want [local|broadcast] DST"},
		{"10.0.0.0/24 dev a0 src", `"src" needs a value`},
		{"10.0.0.0/24 dev a0 src x", `bad src "x"`},
		{"10.0.0.0/24 dev a0 metric 1 metric 2", `unexpected "metric"`},
		{"10.0.0.0/24 dev a0 scope link", `unexpected "scope"`},
		{"10.0.0.0/24 dev a0 linkdown linkdown", `unexpected "linkdown" (repeated)`},
		{"10.0.0.0/24 dev a0 linkdown metric 5 linkdown", `unexpected "linkdown" (repeated)`},
		{"10.0.0.0/24 dev a0 linkdown src 10.0.0.1 linkdown metric 5", `unexpected "linkdown" (repeated)`},
	} {
		_, err := ParseRoute(tc.in)
		if err == nil || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("ParseRoute(%q) = %v; want an error containing %q", tc.in, err, tc.msg)
		}
	}
	if _, err := ParseTable("10.0.0.0/24 dev a0\n\nbogus"); err == nil || !strings.HasPrefix(err.Error(), "line 3:") {
		t.Errorf("ParseTable error does not name line 3: %v", err)
	}
}

func FuzzParseOp(f *testing.F) {
	for _, s := range []string{"add a0 10.0.0.1/24", "del a1 2001:db8::1/64", "add a0 10.0.0.1/24 metric 7", "add a0 ::ffff:1.2.3.4/128", "del  x 0.0.0.0/0"} {
		f.Add(s)
	}
	r := rand.New(rand.NewPCG(7, 8))
	for _, sp := range Alphabet { // every kind, from its definition
		f.Add(randomOp(r, sp.Kind).String())
	}
	f.Fuzz(func(t *testing.T, s string) {
		op, err := ParseOp(s)
		if err != nil {
			return
		}
		again, err := ParseOp(op.String())
		if err != nil || again != op {
			t.Fatalf("ParseOp(%q) = %v; reparsing %q gives %v, %v", s, op, op.String(), again, err)
		}
	})
}

func FuzzParseRoute(f *testing.F) {
	for _, s := range []string{"10.0.0.0/24 dev a0 src 10.0.0.1", "local 10.0.0.1/32 dev a0 src 10.0.0.1", "broadcast 10.0.0.255/32 dev a0 src 10.0.0.1 metric 3", "2001:db8::/64 dev a1 metric 256", "10.0.0.0/24 dev a0 metric 1 src 10.0.0.1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseRoute(s)
		if err != nil {
			return
		}
		again, err := ParseRoute(r.String())
		if err != nil || again != r {
			t.Fatalf("ParseRoute(%q) = %v; reparsing %q gives %v, %v", s, r, r.String(), again, err)
		}
	})
}

func TestSortRoutesKeepsRepetitions(t *testing.T) {
	r := MustParseRoute("10.0.0.0/24 dev a0 src 10.0.0.1")
	l := MustParseRoute("local 10.0.0.1/32 dev a0 src 10.0.0.1")
	if got := SortRoutes([]Route{l, r, r}); len(got) != 3 || got[0] != r || got[1] != r {
		t.Fatalf("SortRoutes = %v", got)
	}
	if got := NewTable([]Route{l, r, r}); len(got) != 2 {
		t.Fatalf("NewTable = %v", got)
	}
	d := Diff(NewTable([]Route{r}), SortRoutes([]Route{r, r}))
	if len(d) != 2 || !d[0].InWant || !d[0].InGot || d[1].InWant || !d[1].InGot {
		t.Fatalf("a repeated route is not an extra line: %+v", d)
	}
}
