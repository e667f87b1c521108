package linux

import (
	"fmt"
	"testing"

	"github.com/routefuzz/routefuzz/model"
)

// After up with keep_addr_on_down, the kernel re-inserts each kept IPv6
// address's local route asynchronously; Apply waits for them, so the
// stack is settled (Lag 0) and its table is the model's at once, every
// time.
func TestUpWaitsForLocalRoutes(t *testing.T) {
	s := open(t)
	cfg := model.Config{Adapters: []string{"a0", "a1"}, KeepAddrOnDown: true}
	if err := s.Reset(cfg); err != nil {
		t.Fatal(err)
	}
	m, _ := model.New(cfg)
	apply := func(line string) {
		t.Helper()
		op := model.MustParseOp(line)
		if err := s.Apply(op); err != nil {
			t.Fatalf("%s: %v", op, err)
		}
		m.Apply(op)
	}
	for i := 1; i <= 4; i++ {
		apply(fmt.Sprintf("add a0 2001:db8:0:1::%d/64 metric %d", i, 100*(i%2)))
	}
	apply("add a0 10.0.0.1/24")
	for round := 0; round < 100; round++ {
		for _, line := range []string{"down a0", "up a0"} {
			apply(line)
			if s.Lag() != 0 {
				t.Fatalf("round %d: %s left the stack unsettled", round, line)
			}
			got, err := s.Routes()
			if err != nil {
				t.Fatal(err)
			}
			if want := m.Routes(); !got.Equal(want) {
				t.Fatalf("round %d, after %s:\n%s\nwant:\n%s", round, line, got, want)
			}
		}
	}
}

// Reset brings every adapter up again and clears keep_addr_on_down.
func TestResetBringsAdaptersUp(t *testing.T) {
	s := open(t)
	cfg := model.Config{Adapters: []string{"a0", "a1"}, KeepAddrOnDown: true}
	if err := s.Reset(cfg); err != nil {
		t.Fatal(err)
	}
	for _, l := range []string{"add a0 2001:db8::1/64", "add a1 10.0.0.1/24", "down a0", "down a1"} {
		if err := s.Apply(model.MustParseOp(l)); err != nil {
			t.Fatal(err)
		}
	}
	cfg.KeepAddrOnDown = false
	if err := s.Reset(cfg); err != nil {
		t.Fatal(err)
	}
	m, _ := model.New(cfg)
	for _, l := range []string{"add a0 2001:db8::1/64", "add a1 10.0.0.1/24", "down a0"} {
		op := model.MustParseOp(l)
		if err := s.Apply(op); err != nil {
			t.Fatal(err)
		}
		m.Apply(op)
	}
	got, err := s.Routes()
	if err != nil {
		t.Fatal(err)
	}
	if want := m.Routes(); !got.Equal(want) {
		t.Fatalf("after a reset:\n%s\nwant:\n%s", got, want)
	}
	as, _ := s.Addrs()
	if len(as) != 1 {
		t.Fatalf("addresses %v, want a1's only (keep_addr_on_down off again)", as)
	}
}
