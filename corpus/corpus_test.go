package corpus

import (
	"errors"
	"flag"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/routefuzz/routefuzz/check"
	"github.com/routefuzz/routefuzz/model"
	"github.com/routefuzz/routefuzz/stacks"
	"github.com/routefuzz/routefuzz/sut/legacy"
)

var update = flag.Bool("update", false, "rewrite the want sections of the corpus from the model")

// TestReplay replays every case against every stack that can be opened
// here (the kernel needs root; an external program needs ROUTEFUZZ_EXEC;
// lwIP needs liblwip-dev, see TestMain) and holds each case to its
// expectation.
func TestReplay(t *testing.T) {
	cases, err := Load(".")
	if err != nil {
		t.Fatal(err)
	}
	if len(cases) < 10 {
		t.Fatalf("only %d cases in the corpus", len(cases))
	}
	for _, c := range cases {
		if *update {
			w, err := ModelWant(c)
			if err != nil {
				t.Fatal(err)
			}
			c.Want = w
			if err := os.WriteFile(c.Path, c.Format(), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		if err := CheckWant(c); err != nil {
			t.Error(err)
		}
	}
	for _, c := range cases {
		if err := c.CheckStacks(stacks.Names()); err != nil {
			t.Error(err)
		}
		if err := c.CheckName(); err != nil {
			t.Error(err)
		}
	}
	for _, name := range stacks.Names() {
		t.Run(name, func(t *testing.T) {
			if why := unavailable[name]; why != "" {
				t.Skipf("cannot run %s here: %s", name, why)
			}
			stack, err := stacks.Open(name, stacks.Options{Exec: os.Getenv("ROUTEFUZZ_EXEC")})
			if err != nil {
				t.Skipf("cannot open %s here: %v", name, err)
			}
			defer stack.Close()
			var stats check.Stats
			held := 0
			for _, c := range cases {
				// A relation case that names the stack is its known bug's
				// own case: it is replayed.
				if KnownOp != nil && c.BrokenBy(name) == "" {
					if op, ex, ok := KnownOp(c, name); ok {
						t.Logf("%s on %s: skipped: %s is a known divergence of %s (exclusion %s)", c.Path, name, op, name, ex)
						continue
					}
				}
				err := Verify(c, name, stack, &stats)
				switch {
				case errors.Is(err, ErrSkip):
					t.Log(err)
				case err != nil:
					t.Error(err)
				default:
					held++
				}
			}
			t.Logf("%s: %d of %d cases held (%d steps, %d re-reads)", name, held, len(cases), stats.Steps, stats.Retries)
		})
	}
}

// KnownOp is props.KnownOp, which skips a case that a stack's known bug
// shows in. props imports corpus, so this package's own tests cannot
// import props: known_test.go, in package corpus_test, sets it.
var KnownOp func(c *Case, stack string) (model.Op, string, bool)

// Every case whose header says it diverges on legacy must have been seen
// to diverge there: TestReplay checks that; here, that the KB case exists.
func TestCorpusHasKBCase(t *testing.T) {
	data, err := os.ReadFile("kb287032-legacy-bad.txtar")
	if err != nil {
		t.Fatal(err)
	}
	c, err := Parse("kb287032-legacy-bad.txtar", data)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Ops) != 3 || !c.ExpectsDivergence("legacy") {
		t.Fatalf("the KB287032 case is not the 3-op legacy divergence: %+v", c)
	}
}

func TestParseReportsEveryError(t *testing.T) {
	dir := t.TempDir()
	write := func(name, s string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("a.txtar", "# fine header\npromote: maybe\n-- ops --\nadd a0 10.0.0.1/24\nadd a0 10.0.0.1\nfrob a0 10.0.0.1/24\n-- want --\n10.0.0.1/24 dev a0\n")
	write("b.txtar", "adapters: a0 a0\n-- ops --\nadd a0 10.0.0.1/24\n-- extra --\n")
	write("c.txtar", "no sections at all\n")
	write("d.txtar", "-- ops --\n# nothing\n")
	write("e.txtar", "# a comment: with a colon is fine\npromte: on\n  # See: indented commentary\n\n-- ops --\nadd a0 10.0.0.1/24\n")
	write("f.txtar", "Promote: on\npromote on\ndiverges: legacy\npromote: off\ndiverges: fixed\nsome words\n-- ops --\nadd a0 10.0.0.1/24\n")
	write("g.txtar", "diverges: legacy\ncrashes: exec legacy\nhangs:\nflaky: linux linux\n-- ops --\nadd a0 10.0.0.1/24\n")
	write("h.txtar", "-- ops --\nadd x9 10.0.0.1/24\nadd a0 10.0.0.1/24 valid_lft 600\nadd a0 10.0.0.1/24 valid_lft 10 preferred_lft 5\nadd a0 10.0.0.1/24 valid_lft 300 preferred_lft 600\nchange a0 10.0.0.1/24 valid_lft 600 preferred_lft 300\n")
	_, err := Load(dir)
	if err == nil {
		t.Fatal("no error for bad files")
	}
	// An op on an adapter the configuration lacks is well formed: the
	// corpus uses it to test the stacks' invalid result.
	for _, line := range []string{"h.txtar:2:", "h.txtar:6:"} {
		if strings.Contains(err.Error(), line) {
			t.Errorf("well-formed op refused:\n%v", err)
		}
	}
	if strings.Contains(err.Error(), "e.txtar:1:") || strings.Contains(err.Error(), "e.txtar:3:") || strings.Contains(err.Error(), "e.txtar:4:") {
		t.Errorf("commentary taken for a directive:\n%v", err)
	}
	for _, want := range []string{
		"a.txtar:2: promote: want on or off",
		"a.txtar:5: address \"10.0.0.1\" has no prefix length",
		"a.txtar:6: unknown verb \"frob\"",
		"a.txtar:8: destination 10.0.0.1/24 has host bits set",
		"b.txtar:1: adapter \"a0\" is named twice",
		"b.txtar:4: unknown section \"extra\"",
		"c.txtar:1: no -- ops -- section",
		"d.txtar:1: the ops section is empty",
		"e.txtar:2: unknown directive \"promte\"",
		"f.txtar:1: unknown directive \"Promote\": directives are lower case, \"promote\"",
		"f.txtar:2: \"promote on\" is not a directive: write \"promote: on\"",
		"f.txtar:5: diverges: repeated (first at line 3)",
		"f.txtar:6: \"some words\" is neither a directive nor commentary (want adapters, promote, keep_addr_on_down, diverges, crashes, hangs, flaky or breaks; start commentary with #)",
		"g.txtar:2: crashes: legacy is already named by diverges: (line 1)",
		"g.txtar:3: hangs: needs at least one stack name",
		"g.txtar:4: flaky: stack \"linux\" is named twice",
		"h.txtar:3: add a0 10.0.0.1/24 valid_lft 600: invalid: valid_lft and preferred_lft go together",
		"h.txtar:4: add a0 10.0.0.1/24 valid_lft 10 preferred_lft 5: invalid: lifetimes under 300 s could expire during a run",
		"h.txtar:5: add a0 10.0.0.1/24 valid_lft 300 preferred_lft 600: invalid: preferred_lft 600 is longer than valid_lft 300",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not contain %q:\n%v", want, err)
		}
	}
}

func TestFormatRoundTrip(t *testing.T) {
	cases, err := Load(".")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		again, err := Parse(c.Path, c.Format())
		if err != nil {
			t.Fatalf("%s: reparsing its Format: %v", c.Path, err)
		}
		if string(again.Format()) != string(c.Format()) {
			t.Errorf("%s: Format is not stable:\n%s\n---\n%s", c.Path, c.Format(), again.Format())
		}
	}
}

func TestCanonicalAndFileName(t *testing.T) {
	cfg := model.Config{Adapters: []string{"a0", "a1", "a2"}}
	ops := []model.Op{model.MustParseOp("add a2 10.0.0.1/24"), model.MustParseOp("add a1 10.0.0.2/24"), model.MustParseOp("del x7 10.0.0.2/24")}
	c2, o2 := Canonical(cfg, ops)
	if strings.Join(c2.Adapters, " ") != "a0 a1" || o2[0].Adapter != "a0" || o2[1].Adapter != "a1" || o2[2].Adapter != "x7" {
		t.Fatalf("Canonical = %v %v", c2, o2)
	}
	a := &Case{Adapters: c2.Adapters, Ops: o2, Diverges: []string{"legacy"}}
	b := &Case{Adapters: c2.Adapters, Ops: o2, Diverges: []string{"legacy"}, Comment: "# other words"}
	if a.FileName() != b.FileName() || !strings.HasSuffix(a.FileName(), "-legacy-bad.txtar") {
		t.Fatalf("FileName not content-derived: %s %s", a.FileName(), b.FileName())
	}
}

// The minimizer reduces a long failing order on legacy to the 3-op
// KB287032 core.
func TestMinimizeLegacyTo3Ops(t *testing.T) {
	cfg := model.Config{Adapters: []string{"a0", "a1", "a2", "a3"}}
	ops := fortyOps(cfg)
	stack := legacy.New()
	d, err := check.Replay("legacy", stack, cfg, ops, nil)
	if err != nil || d == nil || len(d.Ops) != 40 {
		t.Fatalf("the 40-op order does not fail at its last op on legacy: %v %v", err, d)
	}
	ops = d.Ops
	mcfg, min, tries := Minimize(cfg, ops, SameFailureAs("legacy", stack, d))
	if len(min) != 3 {
		t.Fatalf("minimized %d ops to %d, want 3:\n%s", len(ops), len(min), check.FormatOps(min))
	}
	want := []model.Op{min[0], min[1], min[2]}
	if want[0].Adapter != "a0" || want[1].Adapter != "a1" || want[2].Kind != model.Del || want[2].Adapter != "a1" {
		t.Fatalf("not the KB287032 shape:\n%s", check.FormatOps(min))
	}
	for _, op := range min {
		if op.Metric != 0 {
			t.Errorf("metric not simplified away: %s", op)
		}
	}
	t.Logf("%d ops -> %d in %d tries (%s):\n%s", len(ops), len(min), tries, mcfg, check.FormatOps(min))
}

// fortyOps returns 39 ops that legacy gets right (random adds on four
// adapters, deletions in add order), then one delete out of order.
func fortyOps(cfg model.Config) []model.Op {
	r := rand.New(rand.NewPCG(11, 12))
	var ops []model.Op
	var present []model.Addr // oldest first
	for len(ops) < 39 {
		if len(present) > 2 && r.IntN(3) == 0 {
			a := present[0]
			present = present[1:]
			ops = append(ops, model.Op{Kind: model.Del, Adapter: a.Adapter, Prefix: a.Prefix})
			continue
		}
		a := model.Addr{
			Adapter: cfg.Adapters[r.IntN(4)],
			Prefix:  netip.PrefixFrom(netip.AddrFrom4([4]byte{10, 0, byte(r.IntN(2)), byte(1 + len(ops))}), 24),
		}
		ops = append(ops, model.Op{Kind: model.Add, Adapter: a.Adapter, Prefix: a.Prefix, Metric: uint32(r.IntN(2) * 50)})
		present = append(present, a)
	}
	// Delete the newest address for which legacy goes wrong.
	for i := len(present) - 1; i >= 0; i-- {
		last := append(ops, model.Op{Kind: model.Del, Adapter: present[i].Adapter, Prefix: present[i].Prefix})
		if d, err := check.Replay("legacy", legacy.New(), cfg, last, nil); err == nil && d != nil && len(d.Ops) == 40 {
			return last
		}
	}
	panic("no out-of-order delete available; change the seed")
}

func FuzzParseCase(f *testing.F) {
	for _, s := range []string{
		"# c\nadapters: a0 a1\npromote: on\ndiverges: legacy\n-- ops --\nadd a0 10.0.0.1/24\n-- want --\n10.0.0.0/24 dev a0 src 10.0.0.1\n",
		"-- ops --\ndel a0 2001:db8::1/64\n",
		"\ufeff# c: d\ncrashes: exec\nhangs: x\nflaky: linux\n-- ops --\nadd a0 10.0.0.1/24\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := Parse("fuzz.txtar", []byte(s))
		if err != nil {
			return
		}
		again, err := Parse("fuzz.txtar", c.Format())
		if err != nil {
			t.Fatalf("reparsing Format of %q: %v\n%s", s, err, c.Format())
		}
		if string(again.Format()) != string(c.Format()) {
			t.Fatalf("Format not stable for %q", s)
		}
	})
}

// Want sections: one per observable, named for it; `-- want --` is read
// as the routes; a wrong value, an unknown observable and a bad line are
// reported.
func TestWantSections(t *testing.T) {
	const ops = "adapters: a0\n-- ops --\nadd a0 10.0.0.1/32\n"
	c, err := Parse("old.txtar", []byte(ops+"-- want --\nlocal 10.0.0.1/32 dev a0 src 10.0.0.1\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Want) != 1 || c.Want[0].Of != check.Routes || CheckWant(c) != nil {
		t.Fatalf("-- want -- read as %v, check %v", c.Want, CheckWant(c))
	}
	if !strings.Contains(string(c.Format()), "-- want routes --\n") {
		t.Errorf("written as:\n%s", c.Format())
	}
	c, err = Parse("addrs.txtar", []byte(ops+"-- want addresses --\na0 10.0.0.2/32\n"))
	if err != nil {
		t.Fatal(err)
	}
	if err := CheckWant(c); err == nil || !strings.Contains(err.Error(), "the want addresses section differs") {
		t.Errorf("a wrong address list: %v", err)
	}
	_, err = Parse("bad.txtar", []byte(ops+"-- want echoes --\n"))
	if err == nil || !strings.Contains(err.Error(), `bad.txtar:4: unknown section "want echoes"`) {
		t.Errorf("an unknown observable: %v", err)
	}
	_, err = Parse("line.txtar", []byte(ops+"-- want addresses --\na0 10.0.0.1/32\nnot an address\n"))
	if err == nil || !strings.Contains(err.Error(), "line.txtar:6:") {
		t.Errorf("a bad line: %v", err)
	}
}
