package exhaust

import (
	"net/netip"
	"path/filepath"
	"testing"

	"github.com/routefuzz/routefuzz/corpus"
	"github.com/routefuzz/routefuzz/model"
	"github.com/routefuzz/routefuzz/sut/fixed"
	"github.com/routefuzz/routefuzz/sut/legacy"
)

func prefixes(ss ...string) []netip.Prefix {
	var ps []netip.Prefix
	for _, s := range ss {
		ps = append(ps, netip.MustParsePrefix(s))
	}
	return ps
}

// kbUniverse is KB287032's: two adapters, two addresses of one subnet,
// add and del.
func kbUniverse() Universe {
	return Universe{
		Config:   model.Config{Adapters: []string{"a0", "a1"}},
		Prefixes: prefixes("10.0.0.1/24", "10.0.0.2/24"),
		Kinds:    []model.OpKind{model.Add, model.Del},
	}
}

func loadCase(t *testing.T, name string) *corpus.Case {
	t.Helper()
	cs, err := corpus.LoadFiles([]string{filepath.Join("..", "corpus", name)})
	if err != nil {
		t.Fatal(err)
	}
	return cs[0]
}

func logResult(t *testing.T, r *Result) {
	t.Helper()
	for _, l := range r.Levels {
		t.Logf("length %d: space %.0f run %d symmetric %d pruned %d diverged %d (%v)", l.Length, l.Space, l.Run, l.Symmetric, l.Pruned, l.Diverged, l.Elapsed)
	}
	t.Logf("%d ops in the universe; %d sequences run, %d steps in %v; proved: %s", len(r.Ops), r.Run(), r.Steps, r.Elapsed, r.Proved())
}

// TestKB287032IsMinimal proves, with no reduction and so no assumption
// about the stack beyond determinism, that no order of one or two ops of
// the KB287032 universe diverges on legacy, and that one of three does,
// with KB287032's shape.
func TestKB287032IsMinimal(t *testing.T) {
	for _, o := range []Options{
		{Depth: 5},
		{Depth: 5, Symmetry: true, Prune: PruneRepeats},
		{Depth: 5, Symmetry: true, Prune: PruneFailures},
	} {
		r, err := Search("legacy", legacy.New(), kbUniverse(), o)
		if err != nil {
			t.Fatal(err)
		}
		logResult(t, r)
		d := r.Divergence
		if d == nil || r.Flaky {
			t.Fatalf("%+v: no divergence up to 5 ops", o)
		}
		if len(d.Ops) != 3 || len(r.Levels) != 3 || r.Levels[0].Diverged+r.Levels[1].Diverged != 0 {
			t.Fatalf("%+v: shortest divergence has %d ops, want 3:\n%s", o, len(d.Ops), d.Report())
		}
		last := d.Ops[2]
		if last.Kind != model.Del || d.Ops[0].Adapter == d.Ops[1].Adapter {
			t.Errorf("%+v: not KB287032's shape:\n%s", o, d.Report())
		}
	}
}

// TestRecordedKBCaseIsShortest: the corpus case's own universe has no
// divergence shorter than the case.
func TestRecordedKBCaseIsShortest(t *testing.T) {
	c := loadCase(t, "kb287032-legacy-bad.txtar")
	u := FromCase(c)
	r, err := Search("legacy", legacy.New(), u, Options{Depth: len(c.Ops)})
	if err != nil {
		t.Fatal(err)
	}
	logResult(t, r)
	if r.Divergence == nil || len(r.Divergence.Ops) != len(c.Ops) {
		t.Fatalf("universe %s: want the shortest divergence at %d ops, got %v", u, len(c.Ops), r.Divergence)
	}
}

// TestFixedAgrees: the correct stack agrees with the model on every
// order of up to 3 ops of a universe with every kind.
func TestFixedAgrees(t *testing.T) {
	u := Universe{
		Config:   model.Config{Adapters: []string{"a0", "a1"}},
		Prefixes: prefixes("10.0.0.1/24", "10.0.0.255/24", "2001:db8::1/64"),
		Kinds:    []model.OpKind{model.Add, model.Del, model.Change, model.Down, model.Up, model.Carrier, model.Unplug, model.Plug},
		Values:   map[*model.Attr][]AttrValue{model.MetricAttr: {{Value: 100}}},
	}
	depth := 3
	if testing.Short() {
		depth = 2
	}
	r, err := Search("fixed", fixed.New(), u, Options{Depth: depth, Symmetry: true, Prune: PruneRepeats})
	if err != nil {
		t.Fatal(err)
	}
	logResult(t, r)
	if r.Divergence != nil {
		t.Fatalf("fixed diverges:\n%s", r.Divergence.Report())
	}
}
