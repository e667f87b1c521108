package process

import (
	"errors"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/routefuzz/routefuzz/model"
	"github.com/routefuzz/routefuzz/sut"
)

func TestOpsCapability(t *testing.T) {
	// A program that declares nothing takes the kinds of protocol 1.
	if l := start(t, Options{}, "-hello", "hello routefuzz 1").Limits(); !slices.Equal(l.Ops, []model.OpKind{model.Add, model.Del}) {
		t.Errorf("no ops=: takes %v, want add and del", l.Ops)
	}
	s := start(t, Options{}, "-hello", "hello routefuzz 1 ops=add")
	if l := s.Limits(); !slices.Equal(l.Ops, []model.OpKind{model.Add}) {
		t.Errorf("ops=add: takes %v", l.Ops)
	}
	if err := s.Reset(cfg); err != nil {
		t.Fatal(err)
	}
	if err := s.Apply(model.MustParseOp("add a0 10.0.0.1/24")); err != nil {
		t.Fatal(err)
	}
	wantErr(t, s.Apply(model.MustParseOp("del a0 10.0.0.1/24")), ErrUnsupported, "declared ops=add, so routefuzz does not send")
}

func TestBadOpsCapability(t *testing.T) {
	for _, hello := range []string{"hello routefuzz 1 ops=frob", "hello routefuzz 1 ops=", "hello routefuzz 1 ops=add ops=del"} {
		_, err := Start(helperCmd("-hello", hello), Options{})
		wantErr(t, err, ErrCapability)
	}
}

// keep_addr_on_down: a program that declares nothing, or does not take
// down, runs with either setting; one that takes down and IPv6 runs only
// with the setting it declared (0 by default).
func TestKeepAddrOnDownCapability(t *testing.T) {
	for _, tc := range []struct {
		hello string
		want  []bool
	}{
		{"hello routefuzz 1", nil},
		{"hello routefuzz 1 keep_addr_on_down=1", nil},
		{"hello routefuzz 1 ops=add,del,down,up families=4 keep_addr_on_down=1", nil},
		{"hello routefuzz 1 ops=add,del,down,up", []bool{false}},
		{"hello routefuzz 1 ops=add,del,down,up keep_addr_on_down=1", []bool{true}},
	} {
		s := start(t, Options{}, "-hello", tc.hello)
		if l := s.Limits(); !slices.Equal(l.KeepAddrOnDown, tc.want) {
			t.Errorf("%q: keep_addr_on_down %v, want %v", tc.hello, l.KeepAddrOnDown, tc.want)
		}
		for _, keep := range []bool{false, true} {
			c := cfg
			c.KeepAddrOnDown = keep
			err := s.Reset(c)
			if ok := tc.want == nil || tc.want[0] == keep; ok != (err == nil) {
				t.Errorf("%q: Reset with keep_addr_on_down=%v: %v", tc.hello, keep, err)
			}
		}
	}
	for _, hello := range []string{"hello routefuzz 1 keep_addr_on_down=2", "hello routefuzz 1 keep_addr_on_down=0 keep_addr_on_down=1"} {
		_, err := Start(helperCmd("-hello", hello), Options{})
		wantErr(t, err, ErrCapability)
	}
}

// sameSet reports whether a and b hold the same strings, in any order.
func sameSet(a, b []string) bool {
	return slices.Equal(slices.Sorted(slices.Values(a)), slices.Sorted(slices.Values(b)))
}

// The attribute capabilities are those of the op alphabet, each 0 or 1:
// an op that sets an attribute whose capability the program did not
// declare is never sent, and the conversation goes on.
func TestAttrCapabilities(t *testing.T) {
	ops := []string{
		"add a0 2001:db8::1/64 metric 5",
		"add a0 2001:db8::2/64 noprefixroute",
		"add a0 2001:db8::3/64 valid_lft 600 preferred_lft 300",
		"add a0 10.0.0.1/24 metric 7 noprefixroute valid_lft 900 preferred_lft 900",
	}
	for _, tc := range []struct {
		hello string
		want  []string // capabilities taken
		sent  []bool   // whether each of ops is sent
	}{
		{"hello routefuzz 1", nil, []bool{false, false, false, false}},
		{"hello routefuzz 1 metrics=1", []string{"metrics"}, []bool{true, false, false, false}},
		{"hello routefuzz 1 noprefixroute=1", []string{"noprefixroute"}, []bool{false, true, false, false}},
		{"hello routefuzz 1 lifetimes=1 noprefixroute=0", []string{"lifetimes"}, []bool{false, false, true, false}},
		{"hello routefuzz 1 metrics=1 noprefixroute=1 lifetimes=1", []string{"metrics", "noprefixroute", "lifetimes"}, []bool{true, true, true, true}},
	} {
		var trace syncBuf
		s := start(t, Options{Trace: &trace}, "-hello", tc.hello)
		if got := s.Limits().Attrs; !sameSet(got, tc.want) {
			t.Errorf("%q: attribute capabilities %q, want %q", tc.hello, got, tc.want)
		}
		if err := s.Reset(cfg); err != nil {
			t.Fatal(err)
		}
		for i, line := range ops {
			op := model.MustParseOp(line)
			err := s.Apply(op)
			sent := strings.Contains(trace.String(), "> "+line+"\n")
			if sent != tc.sent[i] {
				t.Errorf("%q: %q sent: %v, want %v (%v)", tc.hello, line, sent, tc.sent[i], err)
			}
			if !tc.sent[i] {
				why := sut.LimitsOf(s).Unsupported(op)
				wantErr(t, err, ErrUnsupported, "so routefuzz does not send")
				if !strings.HasSuffix(why, " not supported") {
					t.Errorf("%q: Unsupported(%q) = %q", tc.hello, line, why)
				}
				continue
			}
			var pe *Error
			if errors.As(err, &pe) {
				t.Errorf("%q: %q: %v", tc.hello, line, err) // ok or a result, not a harness failure
			}
		}
		// Undeclared attributes never break the conversation.
		if _, err := s.Routes(); err != nil {
			t.Errorf("%q: %v", tc.hello, err)
		}
	}
}

// ops= may list every kind of the alphabet; change and carrier are sent
// only to a program that declares them.
func TestChangeCarrierOps(t *testing.T) {
	change := model.MustParseOp("change a0 10.0.0.1/24 metric 9")
	carrier := model.MustParseOp("carrier a0 off")
	var trace syncBuf
	s := start(t, Options{Trace: &trace}, "-hello", "hello routefuzz 1 metrics=1 ops=carrier,add,del,change")
	if l := s.Limits(); !slices.Equal(l.Ops, []model.OpKind{model.Add, model.Del, model.Change, model.Carrier}) {
		t.Errorf("ops=carrier,add,del,change: takes %v", l.Ops)
	}
	if err := s.Reset(cfg); err != nil {
		t.Fatal(err)
	}
	for _, op := range []model.Op{model.MustParseOp("add a0 10.0.0.1/24"), change, carrier, model.MustParseOp("carrier a0 on")} {
		var pe *Error
		if err := s.Apply(op); errors.As(err, &pe) {
			t.Errorf("%s: %v", op, err)
		}
		if !strings.Contains(trace.String(), "> "+op.String()+"\n") {
			t.Errorf("%s was not sent", op)
		}
	}

	s = start(t, Options{}, "-hello", "hello routefuzz 1 metrics=1 ops=add,del,down,up")
	if err := s.Reset(cfg); err != nil {
		t.Fatal(err)
	}
	wantErr(t, s.Apply(change), ErrUnsupported, "declared ops=add,del,down,up, so routefuzz does not send")
	wantErr(t, s.Apply(carrier), ErrUnsupported, "declared ops=add,del,down,up, so routefuzz does not send")
	// change with an undeclared attribute, though change is declared.
	s = start(t, Options{}, "-hello", "hello routefuzz 1 ops=add,del,change")
	if err := s.Reset(cfg); err != nil {
		t.Fatal(err)
	}
	wantErr(t, s.Apply(change), ErrUnsupported, "metrics=0")
}

// Route lines may end in "linkdown" (routes of an adapter without
// carrier), in any order with src and metric.
func TestLinkdownRoutes(t *testing.T) {
	s := start(t, Options{}, "-on", "routes", "-do", "linkdown")
	if err := s.Reset(cfg); err != nil {
		t.Fatal(err)
	}
	rs, err := s.Routes()
	if err != nil {
		t.Fatal(err)
	}
	want := model.SortRoutes([]model.Route{
		model.MustParseRoute("10.0.0.0/24 dev a0 src 10.0.0.1 linkdown"),
		model.MustParseRoute("broadcast 10.0.0.255/32 dev a0 src 10.0.0.1 linkdown"),
		model.MustParseRoute("2001:db8::/64 dev a0 metric 256 linkdown"),
		model.MustParseRoute("local 10.0.0.1/32 dev a0 src 10.0.0.1"),
	})
	if !slices.Equal(rs, want) {
		t.Errorf("routes:\n%s\nwant:\n%s", rs, want)
	}
	for _, r := range rs {
		if r.Linkdown != (r.Kind != model.Local) {
			t.Errorf("%s: linkdown %v", r, r.Linkdown)
		}
	}
}

// The route kinds are declared by their tokens (ops=route-add,route-del),
// sent in the op grammar, and answered with any result word of the
// model's, the route kinds' own (unreachable, badsrc, netdown) included;
// the route lines they leave carry via and proto boot. The helper serves
// the model itself, so every answer must be the model's.
func TestRouteOps(t *testing.T) {
	var trace syncBuf
	s := start(t, Options{Trace: &trace}, "-model", "-hello", "hello routefuzz 1 metrics=1 lookups=1 ops=add,del,down,up,route-add,route-del")
	want := []model.OpKind{model.Add, model.Del, model.Down, model.Up, model.RouteAdd, model.RouteDel}
	if l := s.Limits(); !slices.Equal(l.Ops, want) {
		t.Fatalf("ops=add,del,down,up,route-add,route-del: takes %v", l.Ops)
	}
	if err := s.Reset(cfg); err != nil {
		t.Fatal(err)
	}
	m, err := model.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		line string
		want model.Result
	}{
		{"add a0 10.0.0.1/24", model.OK},
		{"route add 198.51.100.0/24 via 10.0.0.9 dev a0 src 10.0.0.1 metric 5", model.OK},
		{"route add default via 10.0.1.9 dev a0", model.GatewayUnreachable},
		{"route add default via 10.0.0.9 dev a0 src 10.0.1.1", model.BadSource},
		{"route add 198.51.100.0/24 via 10.0.0.9 dev a0 metric 5", model.Exists},
		{"route add default via 10.0.0.254 dev a0", model.OK},
		{"route add 2001:db8:99::/64 dev a1", model.OK},
		{"route del 2001:db8:99::/64 dev a1 metric 7", model.NotFound},
		{"route add 10.0.0.0/16 dev x9", model.Invalid},
		{"down a1", model.OK},
		{"route add 2001:db8:99::/64 dev a1 metric 5", model.NetDown},
	} {
		op := model.MustParseOp(tc.line)
		err := s.Apply(op)
		if !strings.Contains(trace.String(), "> "+tc.line+"\n") {
			t.Errorf("%q was not sent as it is", tc.line)
		}
		got, ok := model.ResultOf(err)
		if !ok || got != tc.want {
			t.Errorf("%s: got %v, want %v", tc.line, err, tc.want)
		}
		var oe *model.OpError
		if err != nil && (!errors.As(err, &oe) || !errors.Is(err, tc.want.Err())) {
			t.Errorf("%s: %v (%T) is not a *model.OpError wrapping %v", tc.line, err, err, tc.want.Err())
		}
		if mr, _ := model.ResultOf(m.Apply(op)); mr != tc.want {
			t.Fatalf("%s: the model says %v, the test %v", tc.line, mr, tc.want)
		}
	}
	rs, err := s.Routes()
	if err != nil {
		t.Fatal(err)
	}
	if !rs.Equal(m.Routes()) {
		t.Errorf("routes:\n%swant:\n%s", rs, m.Routes())
	}
	for _, line := range []string{"198.51.100.0/24 via 10.0.0.9 dev a0 proto boot src 10.0.0.1 metric 5", "default via 10.0.0.254 dev a0 proto boot"} {
		if !slices.Contains(rs, model.MustParseRoute(line)) {
			t.Errorf("routes lack %q:\n%s", line, rs)
		}
	}
	l, err := s.Lookup(netip.MustParseAddr("198.51.100.7"))
	if err != nil {
		t.Fatal(err)
	}
	if want := model.MustParseLookup("198.51.100.7 via 10.0.0.9 dev a0 src 10.0.0.1"); !l.Agrees(want) {
		t.Errorf("lookup 198.51.100.7: %v, want %v", l, want)
	}
}

// A program that does not declare the route kinds is never sent them; the
// refusal names what it declared, by token.
func TestRouteOpsUndeclared(t *testing.T) {
	s := start(t, Options{}, "-model", "-hello", "hello routefuzz 1 ops=add,del,route-del")
	if err := s.Reset(cfg); err != nil {
		t.Fatal(err)
	}
	wantErr(t, s.Apply(model.MustParseOp("route add default via 10.0.0.9 dev a0")), ErrUnsupported,
		"declared ops=add,del,route-del, so routefuzz does not send \"route add default via 10.0.0.9 dev a0\"")
	s = start(t, Options{}, "-model", "-hello", "hello routefuzz 1 ops=add,del,route-add")
	if err := s.Reset(cfg); err != nil {
		t.Fatal(err)
	}
	wantErr(t, s.Apply(model.MustParseOp("route add 198.51.100.0/24 dev a0 metric 5")), ErrUnsupported, "metrics=0")
	// ops= lists kinds by token; a verb of two words is no token.
	_, err := Start(helperCmd("-hello", "hello routefuzz 1 ops=route"), Options{})
	wantErr(t, err, ErrCapability, "route-add, route-del")
}

// An answer with a result word the model does not know is outside the
// protocol: a finding (crash) whose message names the request and the
// line.
func TestUnknownResultWord(t *testing.T) {
	s := start(t, Options{}, "-model", "-hello", "hello routefuzz 1 ops=add,del,route-add", "-on", "route add", "-do", "badresult")
	if err := s.Reset(cfg); err != nil {
		t.Fatal(err)
	}
	err := s.Apply(model.MustParseOp("route add default via 10.0.0.9 dev a0"))
	wantErr(t, err, ErrProtocol, `answered "route add default via 10.0.0.9 dev a0" with "err nogateway no route to the gateway", which is outside the protocol`,
		"err exists|notfound|invalid|unreachable|badsrc|netdown")
	if !errors.Is(err, sut.ErrCrash) {
		t.Errorf("%v: not a finding (sut.ErrCrash)", err)
	}
}

// ipv4_per_adapter=N says how many IPv4 addresses an adapter holds at
// once (lwIP: one); an add beyond it is never drawn (sut.Limits.Exceeds).
func TestAddressesPerAdapter(t *testing.T) {
	s := start(t, Options{}, "-hello", "hello routefuzz 1 ipv4_per_adapter=1 ipv6_per_adapter=5")
	l := sut.LimitsOf(s)
	if l.MaxIPv4 != 1 || l.MaxIPv6 != 5 {
		t.Fatalf("limits %+v: want 1 IPv4 and 5 IPv6 addresses per adapter", l)
	}
	st, err := model.New(model.Config{Adapters: []string{"a0", "a1"}})
	if err != nil {
		t.Fatal(err)
	}
	st.Apply(model.MustParseOp("add a0 10.0.0.1/24"))
	for _, tc := range []struct {
		op      string
		exceeds bool
	}{
		{"add a0 10.0.0.2/24", true},
		{"add a0 10.0.0.1/24", false}, // already there: exists
		{"add a1 10.0.0.2/24", false},
		{"add a0 2001:db8::1/64", false},
		{"del a0 10.0.0.1/24", false},
	} {
		if got := l.Exceeds(st, model.MustParseOp(tc.op)) != ""; got != tc.exceeds {
			t.Errorf("Exceeds(%s) = %v, want %v", tc.op, got, tc.exceeds)
		}
	}
	for _, hello := range []string{"hello routefuzz 1 ipv4_per_adapter=0", "hello routefuzz 1 ipv6_per_adapter=x"} {
		if _, err := Start(helperCmd("-hello", hello), Options{}); err == nil {
			t.Errorf("%s: want an error", hello)
		}
	}
}
