package props

import (
	"fmt"
	"testing"

	"github.com/routefuzz/routefuzz/model"
	"github.com/routefuzz/routefuzz/sut"
	"github.com/routefuzz/routefuzz/sut/fixed"
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

// The fixed stack agrees with the model over 20,000 steps for every
// promotion and keep_addr_on_down setting, with down and up drawn, and
// they are drawn often enough to matter. 1000 checks: with route ops
// drawn, about 25 ops a check.
func TestFixedAgreesWithModelDownUp(t *testing.T) {
	for _, promote := range []bool{false, true} {
		for _, keep := range []bool{false, true} {
			t.Run(fmt.Sprintf("promote=%v/keep_addr_on_down=%v", promote, keep), func(t *testing.T) {
				s := &counting{Stack: fixed.New(), n: map[model.OpKind]int{}}
				res, err := Hunt(s, Config{Name: "fixed", Promote: promote, KeepAddrOnDown: keep, Attrs: true}, Budget{Seed: 43, Checks: 1000})
				if err != nil {
					t.Fatal(err)
				}
				if res.Minimal != nil {
					t.Fatalf("fixed diverges:\n%s", res.Minimal.Report())
				}
				if res.Steps < 20000 {
					t.Fatalf("only %d steps checked, want at least 20000", res.Steps)
				}
				// Each about one step in twenty (rapid leans toward
				// the first kinds of an action: down before up).
				if s.n[model.Down] < res.Steps/25 || s.n[model.Up] < res.Steps/25 {
					t.Errorf("down %d and up %d times in %d steps: too rare", s.n[model.Down], s.n[model.Up], res.Steps)
				}
				t.Logf("%d checks, %d steps agree; ops drawn: %v", res.Checks, res.Steps, s.n)
			})
		}
	}
}

// Down and up add no bug of their own to the legacy stack: on a single
// adapter, where KB287032 cannot show, it agrees with the model.
func TestLegacyDownUpSingleAdapter(t *testing.T) {
	for _, promote := range []bool{false, true} {
		for _, keep := range []bool{false, true} {
			res, err := Hunt(legacy.New(), Config{Name: "legacy", Adapters: 1, Promote: promote, KeepAddrOnDown: keep, Attrs: true}, Budget{Seed: 5, Checks: 300})
			if err != nil {
				t.Fatal(err)
			}
			if res.Minimal != nil {
				t.Fatalf("promote=%v keep_addr_on_down=%v: legacy diverges on one adapter:\n%s", promote, keep, res.Minimal.Report())
			}
		}
	}
}

// The fixed stack agrees with the model with unplug and plug drawn, and
// they are drawn often enough to matter. 1000 checks: with route ops
// drawn, about 25 ops a check.
func TestFixedAgreesWithModelUnplugPlug(t *testing.T) {
	for _, keep := range []bool{false, true} {
		s := &counting{Stack: fixed.New(), n: map[model.OpKind]int{}}
		res, err := Hunt(s, Config{Name: "fixed", Promote: true, KeepAddrOnDown: keep, Attrs: true}, Budget{Seed: 44, Checks: 800})
		if err != nil {
			t.Fatal(err)
		}
		if res.Minimal != nil {
			t.Fatalf("keep_addr_on_down=%v: fixed diverges:\n%s", keep, res.Minimal.Report())
		}
		// Each is a tenth of the "link" action (shares down 3, up 3,
		// carrier 2, unplug 1, plug 1), a fifth of all actions (add,
		// del, change, link, odd): about one step in fifty.
		if s.n[model.Unplug] < res.Steps/80 || s.n[model.Plug] < res.Steps/80 {
			t.Errorf("unplug %d and plug %d times in %d steps: too rare", s.n[model.Unplug], s.n[model.Plug], res.Steps)
		}
	}
}
