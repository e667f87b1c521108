package props

import (
	"testing"

	"github.com/routefuzz/routefuzz/model"
	"github.com/routefuzz/routefuzz/sut"
	"github.com/routefuzz/routefuzz/sut/fixed"
)

// oneIPv4 is the fixed stack declaring, as lwIP does, one IPv4 address
// per adapter; it fails the test if it is ever given a second.
type oneIPv4 struct {
	*fixed.Stack
	t *testing.T
}

func (s oneIPv4) Limits() sut.Limits {
	l := sut.All
	l.MaxIPv4 = 1
	return l
}

func (s oneIPv4) Apply(op model.Op) error {
	if op.Kind == model.Add && op.Prefix.Addr().Is4() {
		as, _ := s.Stack.Addrs()
		for _, a := range as {
			if a.Adapter == op.Adapter && a.Prefix.Addr().Is4() && a.Prefix != op.Prefix {
				s.t.Errorf("sent %s while %s holds %s", op, op.Adapter, a.Prefix)
			}
		}
	}
	return s.Stack.Apply(op)
}

// A stack that holds one IPv4 address per adapter (sut.Limits.MaxIPv4)
// is never sent an add of a second, and still gets adds.
func TestMaxAddressesPerAdapter(t *testing.T) {
	s := oneIPv4{fixed.New(), t}
	c, err := Config{Name: "one-ipv4", IPv4: true}.Restrict(s)
	if err != nil {
		t.Fatal(err)
	}
	res, err := Hunt(s, c, Budget{Seed: 1, Checks: 100})
	if err != nil {
		t.Fatal(err)
	}
	if res.Minimal != nil {
		t.Fatalf("diverges:\n%s", res.Minimal.Report())
	}
	if res.Steps < 500 {
		t.Errorf("only %d steps", res.Steps)
	}
}
