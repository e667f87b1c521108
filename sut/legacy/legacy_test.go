package legacy_test

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"testing"

	"github.com/routefuzz/routefuzz/check"
	"github.com/routefuzz/routefuzz/model"
	"github.com/routefuzz/routefuzz/props"
	"github.com/routefuzz/routefuzz/sut"
	"github.com/routefuzz/routefuzz/sut/legacy"
)

// counting counts the ops of each kind a stack is given.
type counting struct {
	sut.Stack
	n map[model.OpKind]int
}

func (c *counting) Apply(op model.Op) error {
	c.n[op.Kind]++
	return c.Stack.Apply(op)
}

// kb287032 reports whether op is a deletion that can trigger KB287032:
// one of an address whose subnet (masked prefix) another adapter also
// holds an address in. Without such deletions every entry of a subnet's
// FIFO is the deleting adapter's, so popping the head is right.
func kb287032(st *model.State, op model.Op) bool {
	if op.Kind != model.Del {
		return false
	}
	key := op.Prefix.Masked()
	for _, a := range st.Addrs() {
		if a.Adapter != op.Adapter && a.Prefix.Masked() == key {
			return true
		}
	}
	return false
}

// Legacy's only bug is KB287032: with the deletions that can trigger it
// skipped, it agrees with the model on three adapters, for every setting,
// with every op kind and attribute drawn (change and carrier included).
func TestOnlyKB287032(t *testing.T) {
	for _, promote := range []bool{false, true} {
		for _, keep := range []bool{false, true} {
			t.Run(fmt.Sprintf("promote=%v/keep_addr_on_down=%v", promote, keep), func(t *testing.T) {
				s := &counting{Stack: legacy.New(), n: map[model.OpKind]int{}}
				c := props.Config{Name: "legacy", Promote: promote, KeepAddrOnDown: keep, Attrs: true, Exclude: kb287032}
				res, err := props.Hunt(s, c, props.Budget{Seed: 287032, Checks: 1000})
				if err != nil {
					t.Fatal(err)
				}
				if res.Minimal != nil {
					t.Fatalf("legacy diverges without KB287032's trigger:\n%s", res.Minimal.Report())
				}
				for _, sp := range model.Alphabet {
					if !sp.Declared && s.n[sp.Kind] == 0 { // hold: only for stacks that declare it
						t.Errorf("%s never drawn in %d steps", sp.Name, res.Steps)
					}
				}
				t.Logf("%d checks, %d steps agree; ops: %v", res.Checks, res.Steps, s.n)
			})
		}
	}
}

// The control of TestOnlyKB287032: without the exclusion, with every op
// kind and attribute drawn, the hunt finds KB287032 and shrinks it to its
// three-op core: two adapters add an address in one subnet, and the
// second deletes its own.
func TestKB287032StillFound(t *testing.T) {
	for seed := uint64(1); seed <= 3; seed++ {
		res, err := props.Hunt(legacy.New(), props.Config{Name: "legacy", Promote: seed%2 == 0, KeepAddrOnDown: true, Attrs: true}, props.Budget{Seed: seed})
		if err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		d := res.Minimal
		if d == nil || res.Flaky {
			t.Fatalf("seed %d: KB287032 not found in %d steps", seed, res.Steps)
		}
		if d.Aspects()&check.RoutesAspect == 0 || len(d.Ops) != 3 {
			t.Fatalf("seed %d: want a 3-op route divergence:\n%s", seed, d.Report())
		}
		add0, add1, del := d.Ops[0], d.Ops[1], d.Ops[2]
		if add0.Kind != model.Add || add1.Kind != model.Add || del.Kind != model.Del ||
			add0.Adapter == add1.Adapter || add0.Prefix.Masked() != add1.Prefix.Masked() ||
			del.Adapter != add1.Adapter || del.Prefix != add1.Prefix {
			t.Errorf("seed %d: not KB287032's shape:\n%s", seed, d.Report())
		}
	}
}

// KB287032's own sequence, and what carrier and change do to its stale
// route: nothing new (the stale route shows linkdown, as any route of an
// adapter without carrier does; a change on the adapter whose
// contribution was taken restores nothing, as the stack believes it has
// none).
func TestKB287032Routes(t *testing.T) {
	for _, tc := range []struct{ ops, want, model string }{
		{`
			add a0 10.0.0.1/24
			add a1 10.0.0.2/24
			del a1 10.0.0.2/24`, `
			local 10.0.0.1/32 dev a0 src 10.0.0.1
			10.0.0.0/24 dev a1 src 10.0.0.2
			broadcast 10.0.0.255/32 dev a1 src 10.0.0.2`, `
			10.0.0.0/24 dev a0 src 10.0.0.1
			local 10.0.0.1/32 dev a0 src 10.0.0.1
			broadcast 10.0.0.255/32 dev a0 src 10.0.0.1`},
		{`
			add a0 10.0.0.1/24
			add a1 10.0.0.2/24 metric 5
			del a1 10.0.0.2/24
			carrier a1 off
			change a0 10.0.0.1/24 metric 7`, `
			local 10.0.0.1/32 dev a0 src 10.0.0.1
			10.0.0.0/24 dev a1 src 10.0.0.2 metric 5 linkdown
			broadcast 10.0.0.255/32 dev a1 src 10.0.0.2 linkdown`, `
			10.0.0.0/24 dev a0 src 10.0.0.1 metric 7
			local 10.0.0.1/32 dev a0 src 10.0.0.1
			broadcast 10.0.0.255/32 dev a0 src 10.0.0.1`},
	} {
		cfg := model.Config{Adapters: []string{"a0", "a1"}}
		s := legacy.New()
		m, _ := model.New(cfg)
		if err := s.Reset(cfg); err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(strings.TrimSpace(tc.ops), "\n") {
			op := model.MustParseOp(line)
			if err := s.Apply(op); err != nil {
				t.Fatalf("%s: %v", op, err)
			}
			if err := m.Apply(op); err != nil {
				t.Fatalf("model: %s: %v", op, err)
			}
		}
		got, _ := s.Routes()
		if want, _ := model.ParseTable(tc.want); !got.Equal(want) {
			t.Errorf("after%s\nlegacy's routes:\n%swant:\n%s", tc.ops, got, want)
		}
		if want, _ := model.ParseTable(tc.model); !m.Routes().Equal(want) {
			t.Errorf("after%s\nthe model's routes:\n%swant:\n%s", tc.ops, m.Routes(), want)
		}
	}
}

// What KB287032 does to reachability: with a default route by a0
// through a gateway in the shared subnet, the sequence leaves the subnet's
// route on a1, so the gateway itself (and every neighbour in the subnet)
// is looked up out of a1, from an address that no adapter holds any more.
// Traffic to the default route's destinations still picks a0, but its
// next hop is resolved on the wrong link. Afterwards, a route through a
// gateway in the subnet is refused by a0 (not on link) and accepted by
// a1, so the destinations of those routes go out the wrong adapter too.
func TestKB287032Reachability(t *testing.T) {
	cfg := model.Config{Adapters: []string{"a0", "a1"}}
	s := legacy.New()
	m, _ := model.New(cfg)
	if err := s.Reset(cfg); err != nil {
		t.Fatal(err)
	}
	apply := func(line string) (legacyErr, modelErr error) {
		op := model.MustParseOp(line)
		return s.Apply(op), m.Apply(op)
	}
	for _, line := range []string{
		"add a0 10.0.0.1/24",
		"add a1 10.0.0.2/24",
		"route add default via 10.0.0.254 dev a0",
		"del a1 10.0.0.2/24",
	} {
		if l, md := apply(line); l != nil || md != nil {
			t.Fatalf("%s: legacy %v, model %v", line, l, md)
		}
	}
	lookup := func(dst, legacyWant, modelWant string) {
		t.Helper()
		a := netip.MustParseAddr(dst)
		got, err := s.Lookup(a)
		if err != nil {
			t.Fatal(err)
		}
		want := m.Lookup(a)
		t.Logf("lookup %s: legacy %q, model %q", dst, got, want)
		if got.String() != legacyWant || want.String() != modelWant {
			t.Errorf("lookup %s: legacy %q, model %q; want legacy %q, model %q", dst, got, want, legacyWant, modelWant)
		}
	}
	lookup("192.0.2.1", "192.0.2.1 via 10.0.0.254 dev a0 src 10.0.0.1", "192.0.2.1 via 10.0.0.254 dev a0 src 10.0.0.1")
	lookup("10.0.0.254", "10.0.0.254 dev a1 src 10.0.0.2", "10.0.0.254 dev a0 src 10.0.0.1")
	lookup("10.0.0.5", "10.0.0.5 dev a1 src 10.0.0.2", "10.0.0.5 dev a0 src 10.0.0.1")
	for _, tc := range []struct {
		op            string
		legacy, model error
	}{
		{"route add 198.51.100.0/24 via 10.0.0.9 dev a0", model.ErrUnreachable, nil},
		{"route add 203.0.113.0/24 via 10.0.0.9 dev a1", nil, model.ErrUnreachable},
	} {
		l, md := apply(tc.op)
		t.Logf("%s: legacy %v, model %v", tc.op, l, md)
		if !errors.Is(l, tc.legacy) || !errors.Is(md, tc.model) {
			t.Errorf("%s: legacy %v, model %v; want legacy %v, model %v", tc.op, l, md, tc.legacy, tc.model)
		}
	}
	lookup("198.51.100.1", "198.51.100.1 via 10.0.0.254 dev a0 src 10.0.0.1", "198.51.100.1 via 10.0.0.9 dev a0 src 10.0.0.1")
	lookup("203.0.113.1", "203.0.113.1 via 10.0.0.9 dev a1 src 10.0.0.1", "203.0.113.1 via 10.0.0.254 dev a0 src 10.0.0.1")
}
