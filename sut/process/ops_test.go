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
