package check

import (
	"testing"

	"github.com/routefuzz/routefuzz/model"
	"github.com/routefuzz/routefuzz/sut/fixed"
	"github.com/routefuzz/routefuzz/sut/legacy"
)

// On a Pair, a traced step's want side is the reference's: where both
// stacks answer notfound and the model would say ok, the step says
// notfound on both sides and does not differ; where they differ, the
// reference's result and the stack's are each on their side.
func TestTracePairWantsTheReference(t *testing.T) {
	cfg := model.Config{Adapters: []string{"a0", "a1"}}
	ops := []model.Op{model.MustParseOp("add a0 10.0.0.2/24"), model.MustParseOp("del a0 10.0.0.2/24")}
	p := pair(t, "flaw", flaw{Stack: fixed.New()}, "flaw2", flaw{Stack: fixed.New()})
	steps, err := Trace("flaw", p, cfg, ops)
	if err != nil || len(steps) != 3 {
		t.Fatalf("Trace: %d steps, %v", len(steps), err)
	}
	if s := steps[2]; s.WantResult != model.NotFound || s.GotResult != model.NotFound || s.Differs() {
		t.Errorf("both sides answer notfound: want %v, got %v, differs %v", s.WantResult, s.GotResult, s.Differs())
	}
	p = pair(t, "flaw", flaw{Stack: legacy.New()}, "fixed", fixed.New())
	steps, err = Trace("flaw", p, cfg, ops)
	if err != nil || len(steps) != 3 {
		t.Fatalf("Trace: %d steps, %v", len(steps), err)
	}
	if s := steps[2]; s.WantResult != model.OK || s.GotResult != model.NotFound {
		t.Errorf("fixed ok, flaw notfound: want %v, got %v", s.WantResult, s.GotResult)
	}
}
