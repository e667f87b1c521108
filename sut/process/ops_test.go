package process

import (
	"slices"
	"testing"

	"github.com/routefuzz/routefuzz/model"
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
