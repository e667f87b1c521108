package linux

import (
	"errors"
	"testing"

	"github.com/routefuzz/routefuzz/model"
)

// A plugged adapter is set up as Reset sets one up: promote_secondaries
// (a per-device sysctl, lost with the device) is written again, and reads
// back 1; ops on an unplugged adapter are invalid (ENODEV)
// and plug of a present one exists (EEXIST); a reset brings back an
// adapter left unplugged.
func TestPlugRestoresSetup(t *testing.T) {
	s := open(t)
	cfg := model.Config{Adapters: []string{"a0", "a1"}, Promote: true}
	if err := s.Reset(cfg); err != nil {
		t.Fatal(err)
	}
	m, _ := model.New(cfg)
	steps := []struct {
		op   string
		want model.Result
	}{
		{"add a1 10.0.0.9/24", model.OK},
		{"unplug a1", model.OK},
		{"add a1 10.0.0.1/24", model.Invalid},
		{"del a1 10.0.0.9/24", model.Invalid},
		{"down a1", model.Invalid},
		{"up a1", model.Invalid},
		{"unplug a1", model.Invalid},
		{"plug a1", model.OK},
		{"plug a1", model.Exists},
		{"plug a0", model.Exists},
		{"add a1 10.0.0.1/24", model.OK},
		{"add a1 10.0.0.2/24", model.OK},
		{"del a1 10.0.0.1/24", model.OK},
		{"unplug a0", model.OK},
	}
	for _, st := range steps {
		op := model.MustParseOp(st.op)
		err := s.Apply(op)
		if r, ok := model.ResultOf(err); !ok || r != st.want {
			t.Fatalf("%s: %v, want %s", st.op, err, st.want)
		}
		if st.want == model.Invalid && !errors.Is(err, model.ErrInvalid) {
			t.Fatalf("%s: %v", st.op, err)
		}
		m.Apply(op)
		if st.op == "plug a1" && st.want == model.OK {
			var b [4]byte
			if k, _ := s.ctl["a1"].ReadAt(b[:], 0); k == 0 || b[0] != '1' {
				t.Fatalf("net.ipv4.conf.a1.promote_secondaries after plug is %q, want 1", b[:k])
			}
		}
		got, err := s.Routes()
		if err != nil {
			t.Fatal(err)
		}
		if want := m.Routes(); !got.Equal(want) {
			t.Fatalf("after %s:\n%s\nwant:\n%s", st.op, got, want)
		}
	}
	if err := s.Reset(cfg); err != nil {
		t.Fatal(err)
	}
	if err := s.Apply(model.MustParseOp("add a0 10.0.0.1/24")); err != nil {
		t.Fatalf("a0 after reset: %v", err)
	}
	if err := s.Apply(model.MustParseOp("plug a0")); !errors.Is(err, model.ErrExists) {
		t.Fatalf("plug a0 after reset: %v, want exists", err)
	}
}
