package fixed_test

import (
	"fmt"
	"os"
	"strconv"
	"testing"

	"github.com/routefuzz/routefuzz/model"
	"github.com/routefuzz/routefuzz/props"
	"github.com/routefuzz/routefuzz/sut"
	"github.com/routefuzz/routefuzz/sut/fixed"
)

// counting counts the ops of each kind and the attributes a stack is
// given, and the results of the route ops.
type counting struct {
	sut.Stack
	n      map[model.OpKind]int
	attrs  map[string]int
	routes map[string]int // "route add ok", "route del notfound", ...
}

func (c *counting) Apply(op model.Op) error {
	c.n[op.Kind]++
	for _, a := range model.Attrs() {
		if a.Get(op) != 0 {
			c.attrs[a.Name]++
		}
	}
	err := c.Stack.Apply(op)
	if op.Kind.Spec().Routes() {
		r, _ := model.ResultOf(err)
		c.routes[op.Kind.String()+" "+r.String()]++
	}
	return err
}

// checksPerSetting is how many sequences each setting runs: about 50,000
// steps, about a second per setting. ROUTEFUZZ_FIXED_CHECKS overrides it
// (a longer soak).
func checksPerSetting(t *testing.T) int {
	if v := os.Getenv("ROUTEFUZZ_FIXED_CHECKS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			t.Fatalf("ROUTEFUZZ_FIXED_CHECKS=%q: %v", v, err)
		}
		return n
	}
	return 2000
}

// minSteps is the fewest steps a setting must check: 20,000, or none with
// -short, under which rapid runs a fifth of the checks, each half as long.
func minSteps() int {
	if testing.Short() {
		return 0
	}
	return 20000
}

// The fixed stack agrees with the model over at least 20,000 random steps
// for each promotion and keep_addr_on_down setting, with every op kind
// and every attribute drawn, each often enough to matter.
func TestAgreesWithModelEverySetting(t *testing.T) {
	checks := checksPerSetting(t)
	for _, promote := range []bool{false, true} {
		for _, keep := range []bool{false, true} {
			t.Run(fmt.Sprintf("promote=%v/keep_addr_on_down=%v", promote, keep), func(t *testing.T) {
				s := &counting{Stack: fixed.New(), n: map[model.OpKind]int{}, attrs: map[string]int{}, routes: map[string]int{}}
				res, err := props.Hunt(s, props.Config{Name: "fixed", Promote: promote, KeepAddrOnDown: keep, Attrs: true}, props.Budget{Seed: 4242, Checks: checks})
				if err != nil {
					t.Fatal(err)
				}
				if res.Minimal != nil {
					t.Fatalf("fixed diverges:\n%s", res.Minimal.Report())
				}
				if res.Steps < minSteps() {
					t.Fatalf("only %d steps checked, want at least %d", res.Steps, minSteps())
				}
				for _, sp := range model.Alphabet {
					if !sp.Declared && s.n[sp.Kind] < res.Steps/100 { // hold: only for stacks that declare it
						t.Errorf("%s drawn %d times in %d steps: too rare", sp.Name, s.n[sp.Kind], res.Steps)
					}
				}
				for _, a := range model.Attrs() {
					if s.attrs[a.Name] < res.Steps/100 {
						t.Errorf("%s set %d times in %d steps: too rare", a.Name, s.attrs[a.Name], res.Steps)
					}
				}
				// Route ops that take effect, at least one step in 500,
				// so that user routes are there to agree on.
				for _, k := range []string{"route add ok", "route del ok"} {
					if s.routes[k] < res.Steps/500 {
						t.Errorf("%s %d times in %d steps: too rare", k, s.routes[k], res.Steps)
					}
				}
				t.Logf("%d checks, %d steps agree in %v; ops: %v; attributes: %v; route results: %v", res.Checks, res.Steps, res.Elapsed, s.n, s.attrs, s.routes)
			})
		}
	}
}
