package model

import (
	"strings"
	"testing"
)

// runCfg is run with a whole Config.
func runCfg(t *testing.T, cfg Config, ops string) *State {
	t.Helper()
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(strings.TrimSpace(ops), "\n") {
		if line = strings.TrimSpace(line); line == "" {
			continue
		}
		if err := s.Apply(MustParseOp(line)); err != nil {
			t.Fatalf("%s: %v", line, err)
		}
	}
	return s
}

// The rules of docs/lifecycle-semantics.md §1, each verified on Linux 6.18.
func TestDownUp(t *testing.T) {
	ad := []string{"a0", "a1"}
	for _, tc := range []struct {
		name          string
		promote, keep bool
		ops, want     string
		addrs         int
	}{
		{"ipv4 down keeps addresses and local routes", false, false, `
			add a0 10.1.0.1/24 metric 5
			add a0 10.1.0.2/24
			add a0 10.2.0.1/32
			down a0`, `
			local 10.1.0.1/32 dev a0 src 10.1.0.1
			local 10.1.0.2/32 dev a0 src 10.1.0.1
			local 10.2.0.1/32 dev a0 src 10.2.0.1`, 3},
		{"ipv4 up rebuilds", false, false, `
			add a0 10.1.0.1/24 metric 5
			add a0 10.1.0.2/24
			down a0
			down a0
			up a0
			up a0`, `
			10.1.0.0/24 dev a0 src 10.1.0.1 metric 5
			local 10.1.0.1/32 dev a0 src 10.1.0.1
			local 10.1.0.2/32 dev a0 src 10.1.0.1
			broadcast 10.1.0.255/32 dev a0 src 10.1.0.1`, 2},
		{"ipv4 promote while down", true, false, `
			add a0 10.1.0.1/24 metric 5
			add a0 10.1.0.2/24 metric 9
			add a0 10.1.0.3/24
			down a0
			del a0 10.1.0.1/24
			up a0`, `
			10.1.0.0/24 dev a0 src 10.1.0.2 metric 9
			local 10.1.0.2/32 dev a0 src 10.1.0.2
			local 10.1.0.3/32 dev a0 src 10.1.0.2
			broadcast 10.1.0.255/32 dev a0 src 10.1.0.2`, 2},
		{"ipv4 add while down, other adapter untouched", false, false, `
			add a1 10.1.0.9/24
			down a0
			add a0 10.1.0.1/24 metric 7`, `
			10.1.0.0/24 dev a1 src 10.1.0.9
			local 10.1.0.1/32 dev a0 src 10.1.0.1
			local 10.1.0.9/32 dev a1 src 10.1.0.9
			broadcast 10.1.0.255/32 dev a1 src 10.1.0.9`, 2},
		{"ipv6 down deletes every address", false, false, `
			add a0 2001:db8:1::1/64 metric 100
			add a0 10.1.0.1/32
			down a0
			up a0`, `
			local 10.1.0.1/32 dev a0 src 10.1.0.1`, 1},
		{"ipv6 keep: kept without routes while down", false, true, `
			add a0 2001:db8:1::1/64 metric 100
			add a0 2001:db8:1::2/64
			down a0`, ``, 2},
		{"ipv6 keep: up restores local and prefix routes", false, true, `
			add a0 2001:db8:1::1/64 metric 100
			add a0 2001:db8:1::2/64
			down a0
			up a0`, `
			2001:db8:1::/64 dev a0 metric 100
			2001:db8:1::/64 dev a0 metric 256
			local 2001:db8:1::1/128 dev a0
			local 2001:db8:1::2/128 dev a0`, 2},
		{"ipv6 add while down: local route only", false, false, `
			down a0
			add a0 2001:db8:1::1/64 metric 100`, `
			local 2001:db8:1::1/128 dev a0`, 1},
		{"ipv6 keep: add while down beside a kept address", false, true, `
			add a0 2001:db8:1::1/64
			down a0
			add a0 2001:db8:1::2/64`, `
			local 2001:db8:1::2/128 dev a0`, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := runCfg(t, Config{Adapters: ad, Promote: tc.promote, KeepAddrOnDown: tc.keep}, tc.ops)
			wantTable(t, s, tc.want)
			if n := len(s.Addrs()); n != tc.addrs {
				t.Errorf("%d addresses, want %d: %v", n, tc.addrs, s.Addrs())
			}
		})
	}
}

func TestDownUpResults(t *testing.T) {
	s := runCfg(t, Config{Adapters: []string{"a0"}}, "down a0")
	if !s.IsDown("a0") {
		t.Error("a0 not down")
	}
	if r, _ := ResultOf(s.Apply(MustParseOp("down x9"))); r != Invalid {
		t.Errorf("down of an unknown adapter: %v, want invalid", r)
	}
	c := s.Clone()
	if err := c.Apply(MustParseOp("up a0")); err != nil || c.IsDown("a0") || !s.IsDown("a0") {
		t.Errorf("up on a clone: %v; clone down %v, original down %v", err, c.IsDown("a0"), s.IsDown("a0"))
	}
	if got := (Config{Adapters: []string{"a0"}, KeepAddrOnDown: true}).String(); got != "adapters=a0 promote=off keep_addr_on_down=on" {
		t.Errorf("Config.String() = %q", got)
	}
}
