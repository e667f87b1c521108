//go:build !windows

package main

import (
	"os"
	"slices"
	"testing"
	"time"

	"github.com/routefuzz/routefuzz/model"
	"github.com/routefuzz/routefuzz/props"
	"github.com/routefuzz/routefuzz/stacks"
	"github.com/routefuzz/routefuzz/sut"
	"github.com/routefuzz/routefuzz/sut/process"
)

// This file does not build on Windows: routefuzz's stacks package, which
// the exec harness comes through, needs sut/linux.

// fakeEnv, set, makes the test binary this program on the fake stack, so
// that routefuzz's own harness (sut/process) can drive it.
const fakeEnv = "ROUTEFUZZ_WINDOWS_TEST_FAKE"

func TestMain(m *testing.M) {
	if os.Getenv(fakeEnv) != "" {
		args, err := ParseArgs(os.Args[1:])
		if err != nil {
			os.Stderr.WriteString(err.Error() + "\n")
			os.Exit(2)
		}
		srv, err := NewServer(args, newFake(eth2, eth3, wifi), func(string, ...any) {})
		if err == nil {
			err = srv.Serve(os.Stdin, os.Stdout)
		}
		if err != nil {
			os.Stderr.WriteString(err.Error() + "\n")
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// expectedToDiffer is true for the ops where Windows is expected to
// differ from the model (docs/windows.md), as the fake does: an IPv4
// address added at a second length (Windows keys an address without its
// length) and an address in the network 0.0.0.0.
func expectedToDiffer(st *model.State, op model.Op) bool {
	if op.Kind != model.Add || !op.Prefix.Addr().Is4() {
		return false
	}
	if op.Prefix.Masked().Addr().IsUnspecified() {
		return true
	}
	return slices.ContainsFunc(st.On(op.Adapter), func(e model.Entry) bool {
		return e.Prefix.Addr() == op.Prefix.Addr() && e.Prefix.Bits() != op.Prefix.Bits()
	})
}

// TestThroughHarness runs the program, on the fake stack, under
// routefuzz's exec stack: the handshake's capabilities are accepted, a
// hunt that leaves out the expected differences passes, and one that
// does not finds one of them.
func TestThroughHarness(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	t.Setenv(fakeEnv, "1")
	cmd := process.Quote(os.Args[0]) + " -adapter 'Ethernet 2' -adapter 'Ethernet 3'"
	s, err := stacks.Open("exec", stacks.Options{Exec: cmd, Timeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	l := sut.LimitsOf(s)
	if !slices.Equal(l.Kinds, model.AllKinds) || !slices.Equal(l.Promote, []bool{true}) || !l.IPv4 || !l.IPv6 ||
		len(l.Attrs) != 0 || !slices.Equal(l.Ops, []model.OpKind{model.Add, model.Del}) {
		t.Fatalf("limits %+v", l)
	}
	c := props.Config{Name: "exec", Promote: true, Adapters: 2, Exclude: expectedToDiffer}
	res, err := props.Hunt(s, c, props.Budget{Seed: 1, Checks: 50, Steps: 20})
	if err != nil {
		t.Fatal(err)
	}
	t.Log(res.Summary("exec"))
	if res.Minimal != nil {
		t.Fatal("\n" + res.Minimal.Report())
	}

	c.Exclude = nil
	res, err = props.Hunt(s, c, props.Budget{Seed: 1, Checks: 50, Steps: 20})
	if err != nil {
		t.Fatal(err)
	}
	if res.Minimal == nil {
		t.Fatal("no divergence found where the fake differs from the model")
	}
	t.Log("\n" + res.Minimal.Report())
	st, _ := model.New(res.Minimal.Config)
	ops := res.Minimal.Ops
	for _, op := range ops[:len(ops)-1] {
		st.Apply(op)
	}
	if !expectedToDiffer(st, ops[len(ops)-1]) {
		t.Errorf("the divergence found is not an expected one")
	}
}
