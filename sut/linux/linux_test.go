package linux

import (
	"errors"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/routefuzz/routefuzz/model"
	"github.com/routefuzz/routefuzz/sut"
)

// needRoot skips t unless the process can create network namespaces.
func needRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: creating a network namespace needs CAP_SYS_ADMIN and configuring it CAP_NET_ADMIN")
	}
}

func open(t testing.TB) *Stack {
	t.Helper()
	needRoot(t)
	s, err := Open()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	return s
}

var abc = model.Config{Adapters: []string{"a0", "a1", "a2"}}

func apply(t *testing.T, s *Stack, ops ...string) {
	t.Helper()
	for _, o := range ops {
		if err := s.Apply(model.MustParseOp(o)); err != nil {
			t.Fatalf("%s: %v", o, err)
		}
	}
}

func routes(t *testing.T, s *Stack) string {
	t.Helper()
	rs, err := s.Routes()
	if err != nil {
		t.Fatal(err)
	}
	return rs.String()
}

func TestRoutesAndAddrs(t *testing.T) {
	s := open(t)
	if err := s.Reset(abc); err != nil {
		t.Fatal(err)
	}
	apply(t, s, "add a0 10.0.0.1/24 metric 5", "add a0 10.0.0.2/24", "add a1 2001:db8::1/64 metric 100")
	m, _ := model.New(abc)
	for _, o := range []string{"add a0 10.0.0.1/24 metric 5", "add a0 10.0.0.2/24", "add a1 2001:db8::1/64 metric 100"} {
		m.Apply(model.MustParseOp(o))
	}
	want := m.Routes().String()
	// The IPv6 local route comes asynchronously.
	if !eventually(func() bool { return routes(t, s) == want }) {
		t.Fatalf("routes:\n%s\nwant:\n%s", routes(t, s), want)
	}
	as, err := s.Addrs()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(as, m.Addrs()) {
		t.Fatalf("addrs %v, want %v", as, m.Addrs())
	}
}

func TestErrors(t *testing.T) {
	s := open(t)
	if err := s.Reset(abc); err != nil {
		t.Fatal(err)
	}
	apply(t, s, "add a0 10.0.0.1/24", "add a0 2001:db8::1/64")
	for _, c := range []struct {
		op   string
		want error
		text string // part of the message
	}{
		{"add a0 10.0.0.1/24", model.ErrExists, "Address already assigned"},
		{"add a0 2001:db8::1/64", model.ErrExists, "address already assigned"},
		{"add a0 2001:db8::1/48", model.ErrExists, "address already assigned"},
		{"del a0 10.0.0.1/16", model.ErrNotFound, "Address not found"},
		{"del a1 10.0.0.1/24", model.ErrNotFound, "Address not found"},
		{"del a0 2001:db8::2/64", model.ErrNotFound, "address not found"},
		{"add x9 10.0.0.1/24", model.ErrInvalid, `no adapter "x9"`},
	} {
		err := s.Apply(model.MustParseOp(c.op))
		var oe *model.OpError
		if !errors.Is(err, c.want) || !errors.As(err, &oe) || !strings.Contains(err.Error(), c.text) {
			t.Errorf("%s: got %v, want %v containing %q", c.op, err, c.want, c.text)
		}
	}
}

func TestResetLeavesNothing(t *testing.T) {
	s := open(t)
	ops := []string{"add a0 10.0.0.1/24", "add a0 10.0.0.2/24", "add a0 10.0.0.1/16", "add a1 10.0.0.1/24 metric 7",
		"add a2 2001:db8::1/64 metric 9", "add a2 2001:db8::2/64", "add a1 2001:db8:1::1/128"}
	var last model.Config
	for _, cfg := range []model.Config{abc, {Adapters: abc.Adapters, Promote: true}, abc, {Adapters: []string{"b0", "a1"}}, {Adapters: []string{"b0", "a1"}, Promote: true}} {
		before := maps.Clone(s.index)
		if err := s.Reset(cfg); err != nil {
			t.Fatalf("reset to %s: %v", cfg, err)
		}
		// The same adapters are kept (even with the prefix routes the
		// kernel leaks: a2 has two metrics in one prefix).
		if slices.Equal(cfg.Adapters, last.Adapters) && !maps.Equal(before, s.index) {
			t.Errorf("reset to %s recreated the adapters: %v, then %v", cfg, before, s.index)
		}
		last = cfg
		if err := s.atBaseline(); err != nil {
			t.Fatalf("after reset to %s: %v", cfg, err)
		}
		for n, f := range s.ctl {
			var b [2]byte
			f.ReadAt(b[:], 0)
			if (b[0] == '1') != cfg.Promote {
				t.Errorf("promote_secondaries of %s is %c with %s", n, b[0], cfg)
			}
		}
		for _, o := range ops {
			op := model.MustParseOp(o)
			if !slices.Contains(cfg.Adapters, op.Adapter) {
				op.Adapter = cfg.Adapters[0]
			}
			s.Apply(op)
		}
	}
}

func TestPromotion(t *testing.T) {
	s := open(t)
	for _, promote := range []bool{false, true} {
		if err := s.Reset(model.Config{Adapters: abc.Adapters, Promote: promote}); err != nil {
			t.Fatal(err)
		}
		apply(t, s, "add a0 10.0.0.1/24", "add a0 10.0.0.2/24 metric 4", "del a0 10.0.0.1/24")
		got := routes(t, s)
		want := ""
		if promote {
			want = "10.0.0.0/24 dev a0 src 10.0.0.2 metric 4\nlocal 10.0.0.2/32 dev a0 src 10.0.0.2\nbroadcast 10.0.0.255/32 dev a0 src 10.0.0.2\n"
		}
		if got != want {
			t.Errorf("promote=%v: routes\n%s\nwant\n%s", promote, got, want)
		}
	}
}

func TestRejectsReservedNames(t *testing.T) {
	s := open(t)
	for _, name := range []string{"lo", "all", "default", ".", ".."} {
		if err := s.Reset(model.Config{Adapters: []string{"a0", name}}); !errors.Is(err, sut.ErrUnsupported) {
			t.Errorf("adapter named %s: got %v, want ErrUnsupported", name, err)
		}
	}
	if err := s.Reset(abc); err != nil {
		t.Fatal(err)
	}
}

func TestNamedAndClosed(t *testing.T) {
	needRoot(t)
	s, err := Open()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(NetnsDir, s.Name())
	if !strings.HasPrefix(s.Name(), Prefix) {
		t.Errorf("name %q lacks the prefix %q", s.Name(), Prefix)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("namespace not named under %s: %v", NetnsDir, err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("%s still there after Close: %v", path, err)
	}
	if err := s.Reset(abc); err == nil {
		t.Fatal("Reset after Close succeeded")
	}
	if _, err := s.Routes(); err == nil {
		t.Fatal("Routes after Close succeeded")
	}
	if _, err := s.Addrs(); err == nil {
		t.Fatal("Addrs after Close succeeded")
	}
	if _, ok := model.ResultOf(s.Apply(model.MustParseOp("add a0 10.0.0.1/24"))); ok {
		t.Fatal("Apply after Close is not a harness error")
	}
}

// Configuring addresses sends no packet: the adapters are NOARP, so IPv6
// sends no MLD report for solicited-node groups (reports go out after a
// random delay of up to a second, hence the wait).
func TestSendsNothing(t *testing.T) {
	s := open(t)
	if err := s.Reset(abc); err != nil {
		t.Fatal(err)
	}
	apply(t, s, "add a0 10.0.0.1/24", "add a0 10.0.0.2/24", "add a1 2001:db8::1/64", "add a1 2001:db8::2/64 metric 5",
		"add a2 2001:db8:1::1/128", "del a1 2001:db8::1/64", "del a0 10.0.0.1/24")
	time.Sleep(2 * time.Second)
	links, err := s.c.Link.List()
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range links {
		if st := l.Attributes.Stats64; st == nil || st.TXPackets != 0 {
			t.Errorf("%s sent packets: %+v", l.Attributes.Name, st)
		}
	}
}
