package examples_test

// The lwIP adapter (examples/lwip/lwipstack.c, docs/lwip.md): built from
// Debian's liblwip-dev, run through the line protocol as the lwip stack
// (stacks/lwip.go) runs it. Its differences from the model are lwIP's
// documented policies, each a case corpus/lwip-*-bad.txtar (with the lwIP
// source line) and an exclusion of stack lwip (props/known_lwip.go);
// these tests pin what lwIP answers in each case, that a hunt finds one
// unaided, and that a hunt past all of them finds nothing else.

import (
	"net/netip"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/routefuzz/routefuzz/check"
	"github.com/routefuzz/routefuzz/corpus"
	"github.com/routefuzz/routefuzz/model"
	"github.com/routefuzz/routefuzz/props"
	"github.com/routefuzz/routefuzz/relations"
	"github.com/routefuzz/routefuzz/sut"
	"github.com/routefuzz/routefuzz/sut/process"
)

// lwipStackBin builds examples/lwip/lwipstack.c with examples/lwip/build.sh
// (which installs liblwip-dev when it is missing and it may), once per
// test binary; the error says why it could not.
var lwipStackBin = sync.OnceValues(func() (string, error) {
	bin := filepath.Join(binDir, "lwipstack")
	out, err := exec.Command("sh", "lwip/build.sh", bin).CombinedOutput()
	if err != nil {
		return "", &buildError{err, strings.TrimSpace(string(out))}
	}
	return bin, nil
})

type buildError struct {
	err error
	out string
}

func (e *buildError) Error() string { return "examples/lwip/build.sh: " + e.err.Error() + ": " + e.out }

// lwipStack starts the lwIP adapter, or skips the test when it cannot be
// built here (no liblwip-dev, and no way to install it).
func lwipStack(t *testing.T) (*process.Stack, *syncBuf) {
	t.Helper()
	bin, err := lwipStackBin()
	if err != nil {
		t.Skipf("the lwIP adapter cannot be built here: %v", err)
	}
	return startTraced(t, process.Quote(bin))
}

// lwipOps is what the adapter declares.
var lwipOps = []model.OpKind{model.Add, model.Del, model.Down, model.Up, model.Unplug, model.Plug, model.Carrier}

// lwipKnown skips the ops of every documented policy of lwIP: the
// exclusions of stack lwip (props/known_lwip.go), what -exclude known
// stands for with -sut lwip.
func lwipKnown(t testing.TB) func(*model.State, model.Op) bool {
	ex, err := props.ExclusionsFor("lwip", []string{"known"})
	if err != nil || ex == nil {
		t.Fatalf("no exclusions for lwip: %v", err)
	}
	return ex
}

// lwipConfig is config(s) named for the lwip stack.
func lwipConfig(s sut.Stack) props.Config {
	c := config(s)
	c.Name = "lwip"
	return c
}

// TestLwipDeclares checks the adapter's handshake: both families, the ops
// lwIP's netif API has, keep_addr_on_down=1 (netif_set_down keeps every
// address), no route table, lookups.
func TestLwipDeclares(t *testing.T) {
	s, _ := lwipStack(t)
	l := sut.LimitsOf(s)
	if !l.IPv4 || !l.IPv6 || !slices.Equal(l.Ops, lwipOps) || !slices.Equal(l.KeepAddrOnDown, []bool{true}) || len(l.Attrs) != 0 ||
		l.Shows("routes") || !l.Shows("lookups") || !l.Shows("addresses") {
		t.Fatalf("limits %+v", l)
	}
}

// lwipPins is what lwIP answers in each case corpus/lwip-*.txtar: the
// op after which it first differs from the model, and the stack's side
// of every difference there (its result, its addresses, its answer to
// each lookup the model answers otherwise).
var lwipPins = map[string]struct {
	at   int
	diff []string
}{
	"lwip-issue13-shared-subnet-readd-bad.txtar": {2, []string{"lookup 10.0.0.1 dev a1 src 10.0.0.2"}},
	"lwip-first-match-not-longest-bad.txtar": {2, []string{
		"lookup 10.0.0.0 dev a1 src 10.0.0.2", "lookup 10.0.0.1 dev a1 src 10.0.0.2", "lookup 10.0.0.3 dev a1 src 10.0.0.2", "lookup 10.0.0.255 dev a1 src 10.0.0.2"}},
	"lwip-plug-moves-to-head-bad.txtar":     {4, []string{"lookup 10.0.0.2 dev a0 src 10.0.0.1"}},
	"lwip-down-address-not-local-bad.txtar": {2, []string{"lookup 10.0.0.1 unreachable"}},
	"lwip-linkdown-netif-skipped-bad.txtar": {2, []string{
		"lookup 10.0.0.0 unreachable", "lookup 10.0.0.1 unreachable", "lookup 10.0.0.2 unreachable", "lookup 10.0.0.255 unreachable"}},
	"lwip-ipv4-slash31-broadcast-bad.txtar": {1, []string{"lookup 10.0.0.3 broadcast dev a0 src 10.0.0.2"}},
	"lwip-ipv6-implied-64-bad.txtar":        {1, []string{"lookup 2001:db8:: unreachable", "lookup 2001:db8::1 unreachable"}},
	"lwip-ipv6-single-netif-bad.txtar":      {1, []string{"lookup 2001:db8:ffff:ffff::1 dev a0 src 2001:db8::1"}},
}

// lwipDiff returns the stack's side of every difference in d, as
// lwipPins writes it.
func lwipDiff(d *check.Divergence) []string {
	var out []string
	if d.WantResult != d.GotResult {
		out = append(out, "result "+d.GotResult.String())
	}
	for _, o := range d.Observed {
		if !o.Differs() {
			continue
		}
		switch got := o.Got.(type) {
		case []model.Addr:
			line := "addresses"
			for _, a := range got {
				line += " " + a.String()
			}
			out = append(out, line)
		case []model.LookupResult:
			want := o.Want.([]model.LookupResult)
			for i, g := range got {
				if i >= len(want) || !want[i].Agrees(g) {
					out = append(out, "lookup "+g.String())
				}
			}
		default:
			out = append(out, o.Of.String()+" differ")
		}
	}
	return out
}

// TestLwipCases replays corpus/lwip-*.txtar, each of which lwIP must
// diverge on (diverges: lwip), and pins how. (go test ./corpus replays
// them too, with the rest of the corpus, and -update rewrites their want
// sections.)
func TestLwipCases(t *testing.T) {
	paths, err := filepath.Glob("../corpus/lwip-*.txtar")
	if err != nil {
		t.Fatal(err)
	}
	cases, err := corpus.LoadFiles(paths)
	if err != nil {
		t.Fatal(err)
	}
	if len(cases) != len(lwipPins) {
		t.Errorf("%d cases, %d pins", len(cases), len(lwipPins))
	}
	s, trace := lwipStack(t)
	defer func() { checkSent(t, trace.String(), lwipOps, nil) }()
	for _, c := range cases {
		name := filepath.Base(c.Path)
		if err := corpus.Verify(c, "lwip", s, nil); err != nil {
			t.Error(err)
			continue
		}
		d, err := corpus.Replay(c, "lwip", s, nil)
		if err != nil || d == nil {
			t.Errorf("%s: replay: %v, %v", name, d, err)
			continue
		}
		pin, ok := lwipPins[name]
		if !ok {
			t.Errorf("%s: not pinned; lwIP differs after op %d: %q", name, len(d.Ops), lwipDiff(d))
			continue
		}
		if got := lwipDiff(d); len(d.Ops) != pin.at || !slices.Equal(got, pin.diff) {
			t.Errorf("%s: lwIP differs after op %d with\n%s\nwant after op %d with\n%s\n%s", name, len(d.Ops), strings.Join(got, "\n"), pin.at, strings.Join(pin.diff, "\n"), d.Report())
		}
	}
}

// TestLwipHuntFindsPolicy runs a short deterministic hunt against lwIP,
// as routefuzz check -sut lwip does: it must find a difference, shrink it
// to at most two ops, and the difference must be one of lwIP's documented
// policies (a known lwip exclusion matches it).
func TestLwipHuntFindsPolicy(t *testing.T) {
	s, _ := lwipStack(t)
	res, err := props.Hunt(s, lwipConfig(s), props.Budget{Seed: 1, Checks: 50})
	if err != nil {
		t.Fatal(err)
	}
	t.Log(res.Summary("lwip"))
	if res.Minimal == nil {
		t.Fatal("no difference found")
	}
	t.Logf("found after %d checks (%d steps), shrunk to:\n%s", res.Checks, res.Steps, res.Minimal.Report())
	if !documented(t, res.Minimal) || len(res.Minimal.Ops) > 2 {
		t.Errorf("not shrunk to a documented policy:\n%s", res.Minimal.Report())
	}
}

// documented reports whether a known lwip exclusion (props/known_lwip.go,
// one per documented policy) matches an op of d.
func documented(t *testing.T, d *check.Divergence) bool {
	known := lwipKnown(t)
	st, err := model.New(d.Config)
	if err != nil {
		t.Fatal(err)
	}
	for _, op := range d.Ops {
		if known(st, op) {
			return true
		}
		st.Apply(op)
	}
	return false
}

// TestLwipHuntPastPolicies hunts with every policy excluded (check -sut
// lwip -exclude known): lwIP must then agree with the model, so that the
// cases are every difference these checks reach.
func TestLwipHuntPastPolicies(t *testing.T) {
	s, trace := lwipStack(t)
	defer func() { checkSent(t, trace.String(), lwipOps, nil) }()
	c := lwipConfig(s)
	c.Exclude = lwipKnown(t)
	res, err := props.Hunt(s, c, props.Budget{Seed: 1, Checks: 300})
	if err != nil {
		t.Fatal(err)
	}
	t.Log(res.Summary("lwip"))
	if res.Minimal != nil {
		t.Fatal("a difference no policy explains:\n" + res.Minimal.Report())
	}
}

// BenchmarkLwipHunt measures a hunt against lwIP with every policy
// excluded (so that it runs whole checks): steps/s, lookups included.
func BenchmarkLwipHunt(b *testing.B) {
	bin, err := lwipStackBin()
	if err != nil {
		b.Skip(err)
	}
	s, err := process.Start(process.Quote(bin), process.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	c := lwipConfig(s)
	c.Exclude = lwipKnown(b)
	steps := 0
	for b.Loop() {
		res, err := props.Hunt(s, c, props.Budget{Seed: 1, Checks: 100})
		if err != nil || res.Minimal != nil {
			b.Fatal(err, res.Minimal)
		}
		steps += res.Steps
	}
	b.ReportMetric(float64(steps)/b.Elapsed().Seconds(), "steps/s")
}

// BenchmarkLwipFirstFinding measures the time a hunt from seed 1 takes to
// find and shrink lwIP's first difference.
func BenchmarkLwipFirstFinding(b *testing.B) {
	bin, err := lwipStackBin()
	if err != nil {
		b.Skip(err)
	}
	s, err := process.Start(process.Quote(bin), process.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	for b.Loop() {
		res, err := props.Hunt(s, lwipConfig(s), props.Budget{Seed: 1, Checks: 50})
		if err != nil || res.Minimal == nil {
			b.Fatal(err, "no finding")
		}
	}
}

// TestLwipIssue13 pins issue 13's observation step by step: with a0 and
// a1 in one subnet, a host of it is reached by a1, the netif added last,
// and stays so when a0's address is deleted and added again: whichever
// netif was added (reset, plug) last wins while it holds its address, and
// the addresses' age plays no part. Plugging a0 back (netif_remove,
// netif_add) moves it to the head of the list, and the subnet with it.
func TestLwipIssue13(t *testing.T) {
	s, _ := lwipStack(t)
	if err := s.Reset(model.Config{Adapters: []string{"a0", "a1"}, Promote: true, KeepAddrOnDown: true}); err != nil {
		t.Fatal(err)
	}
	for _, step := range []struct{ op, want string }{
		{"add a0 10.0.0.1/24", "10.0.0.5 dev a0 src 10.0.0.1"},
		{"add a1 10.0.0.2/24", "10.0.0.5 dev a1 src 10.0.0.2"},
		{"del a0 10.0.0.1/24", "10.0.0.5 dev a1 src 10.0.0.2"},
		{"add a0 10.0.0.1/24", "10.0.0.5 dev a1 src 10.0.0.2"},
		{"del a1 10.0.0.2/24", "10.0.0.5 dev a0 src 10.0.0.1"},
		{"add a1 10.0.0.2/24", "10.0.0.5 dev a1 src 10.0.0.2"},
		{"unplug a1", "10.0.0.5 dev a0 src 10.0.0.1"},
		{"plug a1", "10.0.0.5 dev a0 src 10.0.0.1"},
		{"add a1 10.0.0.2/24", "10.0.0.5 dev a1 src 10.0.0.2"},
		{"unplug a0", "10.0.0.5 dev a1 src 10.0.0.2"},
		{"plug a0", "10.0.0.5 dev a1 src 10.0.0.2"},
		{"add a0 10.0.0.1/24", "10.0.0.5 dev a0 src 10.0.0.1"},
	} {
		if err := s.Apply(model.MustParseOp(step.op)); err != nil {
			t.Fatalf("%s: %v", step.op, err)
		}
		l, err := s.Lookup(netip.MustParseAddr("10.0.0.5"))
		if err != nil {
			t.Fatal(err)
		}
		if got := l.String(); got != step.want {
			t.Errorf("after %s: lookup %s, want %s", step.op, got, step.want)
		}
	}
}

// lwipRelations hunts lwIP judged by the relations alone (check -oracle
// relations: no model compared), second runs on a second adapter
// process.
func lwipRelations(t *testing.T, exclude func(*model.State, model.Op) bool, seed uint64, checks int) props.Result {
	t.Helper()
	s, _ := lwipStack(t)
	twin, _ := lwipStack(t)
	o := &relations.Oracle{Twin: twin, Exclude: exclude}
	c := lwipConfig(s)
	c.Exclude = exclude
	res, err := props.Hunt(o.Judged(s, false), c, props.Budget{Seed: seed, Checks: checks})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// With no model, the relations find one of lwIP's documented policies at
// once (seed 1: the implied /64, ip6.c:190-208, broken reachability; the
// /31 broadcast is another): the case they shrink to is one that a known
// lwIP exclusion (props/known_lwip.go) matches, so no relation lwIP
// should hold is broken.
func TestLwipRelationsFindPolicy(t *testing.T) {
	res := lwipRelations(t, nil, 1, 20)
	d := res.Minimal
	if d == nil || d.Relation == "" {
		t.Fatalf("no relation broken in %d checks: %v", res.Checks, d)
	}
	if !documented(t, d) || len(d.Ops) > 2 {
		t.Errorf("relation %s broken by no documented policy, or not shrunk:\n%s", d.Relation, d.Report())
	}
}

// Past its documented policies (lwipKnown), lwIP holds every relation
// over a short run, with Linux's freedoms (relations.Default).
func TestLwipRelationsHoldPastPolicies(t *testing.T) {
	res := lwipRelations(t, lwipKnown(t), 1, 40)
	t.Log(res.Summary("lwip"))
	if res.Minimal != nil {
		t.Fatal("lwIP breaks a relation no policy explains:\n" + res.Minimal.Report())
	}
}
