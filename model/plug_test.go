package model

import (
	"errors"
	"testing"
)

// The rules of docs/lifecycle-semantics.md §3, verified on Linux 6.18.
func TestUnplugPlug(t *testing.T) {
	cfg := Config{Adapters: []string{"a0", "a1"}, KeepAddrOnDown: true}
	s := runCfg(t, cfg, `
		add a0 10.0.0.1/24
		add a0 10.0.0.2/24
		add a1 10.0.0.3/24
		add a0 2001:db8::1/64
		down a0
		add a0 2001:db8::2/64
		unplug a0`)
	if got, want := s.Routes().String(), runCfg(t, cfg, "add a1 10.0.0.3/24").Routes().String(); got != want {
		t.Fatalf("after unplug:\n%s\nwant a1's only:\n%s", got, want)
	}
	if len(s.On("a0")) != 0 || !s.IsUnplugged("a0") || s.IsDown("a0") {
		t.Fatalf("a0 after unplug: %v unplugged=%v down=%v", s.On("a0"), s.IsUnplugged("a0"), s.IsDown("a0"))
	}
	for _, l := range []string{"add a0 10.0.0.1/24", "del a0 10.0.0.1/24", "down a0", "up a0", "unplug a0"} {
		if err := s.Apply(MustParseOp(l)); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s on an unplugged adapter: %v, want invalid", l, err)
		}
	}
	if err := s.Apply(MustParseOp("add a0 0.0.0.0/24")); err != nil {
		t.Errorf("add 0.0.0.0 on an unplugged adapter: %v, want ok (ignored)", err)
	}
	c := s.Clone()
	for _, l := range []string{"plug a0", "plug a1"} {
		if err := s.Apply(MustParseOp(l)); err != nil && l == "plug a0" || err == nil && l == "plug a1" {
			t.Fatalf("%s: %v", l, err)
		} else if l == "plug a1" && !errors.Is(err, ErrExists) {
			t.Fatalf("%s: %v, want exists", l, err)
		}
	}
	if s.IsUnplugged("a0") || s.IsDown("a0") || !c.IsUnplugged("a0") {
		t.Fatalf("after plug: unplugged=%v down=%v; clone unplugged=%v", s.IsUnplugged("a0"), s.IsDown("a0"), c.IsUnplugged("a0"))
	}
	if err := s.Apply(MustParseOp("add a0 10.0.0.1/24")); err != nil {
		t.Fatal(err)
	}
	if got, want := s.Routes().String(), runCfg(t, cfg, "add a1 10.0.0.3/24\nadd a0 10.0.0.1/24").Routes().String(); got != want {
		t.Fatalf("after plug and add:\n%s\nwant:\n%s", got, want)
	}
}
