package exhaust

import (
	"fmt"
	"github.com/routefuzz/routefuzz/sut"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"

	"github.com/routefuzz/routefuzz/check"
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

func TestAddressClasses(t *testing.T) {
	for _, c := range []struct {
		prefixes []string
		want     string
	}{
		{[]string{"10.0.0.1/24", "10.0.0.2/24"}, "[[10.0.0.1 10.0.0.2]]"},
		// The broadcast and network addresses are not renamed.
		{[]string{"10.0.0.1/24", "10.0.0.255/24", "10.0.0.0/24", "10.0.0.2/24"}, "[[10.0.0.1 10.0.0.2]]"},
		// Another subnet at another length in the universe splits them.
		{[]string{"10.0.0.1/16", "10.0.1.1/16"}, "[[10.0.0.1 10.0.1.1]]"},
		{[]string{"10.0.0.1/16", "10.0.1.1/16", "10.0.1.5/24"}, "[]"},
		// 10.0.1.255 is the broadcast address of 10.0.1.0/24.
		{[]string{"10.0.0.1/16", "10.0.1.255/16", "10.0.1.1/24"}, "[]"},
		// The same address at two lengths: both must be there for both.
		{[]string{"10.0.0.1/24", "10.0.0.1/25", "10.0.0.2/24"}, "[]"},
		{[]string{"10.0.0.1/24", "10.0.0.1/25", "10.0.0.2/24", "10.0.0.2/25"}, "[[10.0.0.1 10.0.0.2]]"},
		// IPv6: the subnet-router anycast address is not renamed.
		{[]string{"2001:db8::/64", "2001:db8::1/64", "2001:db8::2/64", "10.0.0.1/24"}, "[[2001:db8::1 2001:db8::2]]"},
		{[]string{"0.0.0.0/8", "0.0.0.1/8"}, "[]"},
	} {
		u := Universe{Config: model.Config{Adapters: []string{"a0"}}, Prefixes: prefixes(c.prefixes...)}
		if got := fmt.Sprint(AddressClasses(u)); got != c.want {
			t.Errorf("%v: classes %s, want %s", c.prefixes, got, c.want)
		}
	}
}

func TestOpsFromAlphabet(t *testing.T) {
	u := Universe{
		Config:   model.Config{Adapters: []string{"a0", "a1"}},
		Prefixes: prefixes("10.0.0.1/24"),
		Kinds:    []model.OpKind{model.Add, model.Carrier, model.Down},
		Values: map[*model.Attr][]AttrValue{
			model.MetricAttr:   {{Value: 100}},
			model.ValidLftAttr: {{Value: 600, With: 300}},
		},
	}
	var got []string
	for _, op := range u.Ops(sut.LimitsOf(legacy.New())) {
		got = append(got, op.String())
	}
	t.Log(got)
	// add: 2 adapters × 1 prefix × 2 metrics × 2 lifetimes (the stack
	// takes what it takes); carrier: 2 × on/off; down: 2.
	for _, op := range u.Ops(sut.All) {
		if err := op.Validate(); err != nil {
			t.Error(err)
		}
	}
	if n := len(u.Ops(sut.All)); n != 2*4+4+2 {
		t.Errorf("%d ops, want 14", n)
	}
}

// TestReductionsKeepTheShortest checks on legacy, over universes where it
// diverges, that symmetry and pruning find a divergence of the same
// length as the search with no reduction: the assumptions hold there.
func TestReductionsKeepTheShortest(t *testing.T) {
	us := []Universe{
		kbUniverse(),
		{
			Config:   model.Config{Adapters: []string{"a0", "a1", "a2"}},
			Prefixes: prefixes("10.0.0.1/24", "10.0.0.2/24", "10.0.0.3/24"),
			Kinds:    []model.OpKind{model.Add, model.Del, model.Down, model.Up},
		},
		{
			Config:   model.Config{Adapters: []string{"a0", "a1"}, Promote: true},
			Prefixes: prefixes("10.0.0.1/24", "10.0.0.2/24", "2001:db8::1/64", "2001:db8::2/64"),
			Kinds:    []model.OpKind{model.Add, model.Del, model.Unplug, model.Plug},
		},
	}
	for _, u := range us {
		var lengths []int
		for _, o := range []Options{{Depth: 4}, {Depth: 4, Symmetry: true}, {Depth: 4, Symmetry: true, Prune: PruneRepeats}, {Depth: 4, Symmetry: true, Prune: PruneFailures}} {
			r, err := Search("legacy", legacy.New(), u, o)
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			if r.Divergence != nil {
				n = len(r.Divergence.Ops)
			}
			lengths = append(lengths, n)
			t.Logf("%s symmetry=%v prune=%v: shortest %d, %d run", u, o.Symmetry, o.Prune, n, r.Run())
		}
		for _, n := range lengths[1:] {
			if n != lengths[0] {
				t.Errorf("%s: shortest lengths %v (none, symmetry, +repeats, +failures) differ", u, lengths)
			}
		}
	}
}

// TestSymmetryIsExactOnLegacy runs every sequence of the shortest
// diverging length with and without symmetry and checks that the
// diverging canonical sequences stand for exactly the diverging
// sequences: legacy treats renamed sequences alike in these universes.
func TestSymmetryIsExactOnLegacy(t *testing.T) {
	us := []Universe{
		kbUniverse(),
		{
			Config:   model.Config{Adapters: []string{"a0", "a1"}},
			Prefixes: prefixes("10.0.0.1/24", "10.0.0.2/24", "10.0.0.255/24"),
			Kinds:    []model.OpKind{model.Add, model.Del, model.Down, model.Up, model.Unplug, model.Plug, model.Change, model.Carrier},
		},
		{
			Config:   model.Config{Adapters: []string{"a0", "a1", "a2"}, Promote: true},
			Prefixes: prefixes("10.0.0.1/24", "10.0.0.2/24", "10.0.0.3/24"),
			Kinds:    []model.OpKind{model.Add, model.Del},
		},
	}
	for _, u := range us {
		full, err := Search("legacy", legacy.New(), u, Options{Depth: 3, FinishLevel: true})
		if err != nil {
			t.Fatal(err)
		}
		sym, err := Search("legacy", legacy.New(), u, Options{Depth: 3, FinishLevel: true, Symmetry: true})
		if err != nil {
			t.Fatal(err)
		}
		f, s := full.Levels[len(full.Levels)-1], sym.Levels[len(sym.Levels)-1]
		t.Logf("%s: length %d: %d of %d diverge; with symmetry %d of %d run, standing for %d", u, f.Length, f.Diverged, f.Run, s.Diverged, s.Run, s.Represented)
		if f.Length != s.Length || f.Diverged != s.Represented || f.Diverged == 0 {
			t.Errorf("%s: without symmetry %d diverge at length %d; with, %d standing for %d at length %d", u, f.Diverged, f.Length, s.Diverged, s.Represented, s.Length)
		}
	}
}

// TestShorter: after a shrink, Shorter confirms that no shorter order of
// the same universe diverges, and finds one when a longer order is given.
func TestShorter(t *testing.T) {
	c := loadCase(t, "kb287032-legacy-bad.txtar")
	stack := legacy.New()
	long := append([]model.Op{model.MustParseOp("add a1 10.0.0.2/24"), model.MustParseOp("del a1 10.0.0.2/24")}, c.Ops...)
	for _, x := range []struct {
		ops  []model.Op
		want int // the length of the shorter divergence, or 0
	}{{c.Ops, 0}, {long, 3}} {
		d, err := check.Replay("legacy", stack, c.Config(), x.ops, nil)
		if err != nil || d == nil {
			t.Fatalf("%v: want a divergence, got %v", err, d)
		}
		r, err := Shorter(stack, d, Options{Symmetry: true, Prune: PruneRepeats})
		if err != nil {
			t.Fatal(err)
		}
		logResult(t, r)
		got := 0
		if r.Divergence != nil {
			got = len(r.Divergence.Ops)
		}
		if got != x.want || len(r.Levels) != min(len(d.Ops)-1, 3) {
			t.Errorf("%d ops: a shorter divergence of %d ops (%d lengths run), want %d", len(d.Ops), got, len(r.Levels), x.want)
		}
	}
}

// Validate refuses what Ops would silently drop: values the alphabet's
// rules refuse and repeats.
func TestUniverseValidate(t *testing.T) {
	p := netip.MustParsePrefix("10.0.0.1/24")
	ok := Universe{Prefixes: []netip.Prefix{p}, Values: map[*model.Attr][]AttrValue{
		model.MetricAttr: {{Value: 100}}, model.NoPrefixRouteAttr: {{Value: 1}}, model.ValidLftAttr: {{600, 300}, {300, 300}},
	}}
	if err := ok.Validate(); err != nil {
		t.Fatalf("valid universe refused: %v", err)
	}
	for _, tc := range []struct {
		u   Universe
		msg string
	}{
		{Universe{Prefixes: []netip.Prefix{p, p}}, "prefix 10.0.0.1/24 is given twice"},
		{Universe{Values: map[*model.Attr][]AttrValue{model.NoPrefixRouteAttr: {{Value: 7}}}}, "noprefixroute=7: noprefixroute is a flag"},
		{Universe{Values: map[*model.Attr][]AttrValue{model.ValidLftAttr: {{10, 5}}}}, "valid_lft=10/5: lifetimes under 300 s"},
		{Universe{Values: map[*model.Attr][]AttrValue{model.ValidLftAttr: {{300, 600}}}}, "valid_lft=300/600: preferred_lft 600 is longer"},
		{Universe{Values: map[*model.Attr][]AttrValue{model.ValidLftAttr: {{600, 0}}}}, "valid_lft=600/0: valid_lft and preferred_lft go together"},
		{Universe{Values: map[*model.Attr][]AttrValue{model.MetricAttr: {{Value: 5}, {Value: 5}}}}, "metric=5 is given twice"},
	} {
		if err := tc.u.Validate(); err == nil || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("Validate() = %v; want an error containing %q", err, tc.msg)
		}
	}
}
