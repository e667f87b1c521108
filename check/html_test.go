package check

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/routefuzz/routefuzz/internal/browser"
	"github.com/routefuzz/routefuzz/model"
	"github.com/routefuzz/routefuzz/sut"
	"github.com/routefuzz/routefuzz/sut/fixed"
	"github.com/routefuzz/routefuzz/sut/legacy"
)

var kbCfg = model.Config{Adapters: []string{"a0", "a1"}}

// Without a trace the page shows the last op's comparison, as recorded.
func TestHTMLReport(t *testing.T) {
	d, _ := Replay("legacy", legacy.New(), kbCfg, kb, nil)
	h := string(d.HTML())
	for _, want := range []string{
		"<h1>legacy diverges from the model in routes&#43;lookups</h1>",
		`<li>add a0 10.0.0.1/24</li>`,
		`<li class="last diverges"><a href="#step-3">del a1 10.0.0.2/24</a></li>`,
		`<tr class="missing"><td class="m">-</td><td class="want">10.0.0.0/24 dev a0 src 10.0.0.1</td><td class="got"></td></tr>`,
		`<tr class="extra"><td class="m">&#43;</td><td class="want"></td><td class="got">10.0.0.0/24 dev a1 src 10.0.0.2</td></tr>`,
	} {
		if !strings.Contains(h, want) {
			t.Errorf("HTML lacks %q:\n%s", want, h)
		}
	}
}

// kbLong is the KB287032 case after a prefix of ops on which legacy
// agrees with the model, for a report with steps to fold.
var kbLong = ops(
	"add a0 10.0.0.1/24", "add a1 192.168.1.1/24", "down a1", "up a1", "del a1 192.168.1.1/24",
	"add a1 10.0.0.2/24", "del a1 10.0.0.2/24",
)

func TestTrace(t *testing.T) {
	steps, err := Trace("legacy", legacy.New(), kbCfg, kbLong)
	if err != nil {
		t.Fatal(err)
	}
	if len(steps) != len(kbLong)+1 {
		t.Fatalf("%d steps, want the reset and %d ops", len(steps), len(kbLong))
	}
	for i, s := range steps {
		if s.N != i || i > 0 && s.Op != kbLong[i-1] {
			t.Errorf("step %d is %d %v", i, s.N, s.Op)
		}
		if len(s.Observed) != len(Observables) {
			t.Errorf("step %d has %d observables, want %d", i, len(s.Observed), len(Observables))
		}
	}
	if i := FirstDivergence(steps); i != len(kbLong) {
		t.Errorf("first divergence at step %d, want %d", i, len(kbLong))
	}
	if w, _ := Routes.values(steps[1].Observed[0].Want, nil); len(w) != 3 {
		t.Errorf("routes after op 1: %v", w)
	}
	// The last step is the divergence Replay finds.
	d, _ := Replay("legacy", legacy.New(), kbCfg, kbLong, nil)
	if !steps[len(kbLong)].same(d.last()) {
		t.Errorf("the traced last step is not Replay's divergence")
	}
}

// traced renders the long KB case with every step, as cmd/routefuzz does.
func traced(t *testing.T) (*Divergence, string) {
	t.Helper()
	d, err := Replay("legacy", legacy.New(), kbCfg, kbLong, nil)
	if err != nil || d == nil {
		t.Fatalf("legacy does not diverge: %v", err)
	}
	steps, err := Trace(d.SUT, legacy.New(), d.Config, d.Ops)
	return d, string(d.HTMLWith(HTMLOptions{
		Seed:    3,
		Command: "./bin/routefuzz check -sut legacy -seed 3 -checks 100 -exclude 'a<b'",
		Steps:   steps, TraceErr: err,
	}))
}

var (
	stepOpen = regexp.MustCompile(`<details class="step ([a-z]+)" id="step-(\d+)" data-step="(\d+)"( open(?:="")?)?>`)
)

func TestHTMLEveryStep(t *testing.T) {
	d, h := traced(t)
	ms := stepOpen.FindAllStringSubmatch(h, -1)
	if len(ms) != len(d.Ops)+1 {
		t.Fatalf("%d steps in the page, want %d:\n%s", len(ms), len(d.Ops)+1, h)
	}
	for i, m := range ms {
		last := i == len(d.Ops)
		if m[2] != fmt.Sprint(i) || (m[4] != "") != last || (m[1] == "diverges") != last {
			t.Errorf("step %d: %q", i, m[0])
		}
	}
	for _, want := range []string{
		`<code id="seed">3</code>`,
		`<pre id="command">./bin/routefuzz check -sut legacy -seed 3 -checks 100 -exclude &#39;a&lt;b&#39;</pre>`,
		`<code id="config">adapters=a0,a1 promote=off</code>`,
		`<a href="#step-7">after op 7</a>`,
		`<span class="badge">first divergence</span>`,
		`identical: routes (3), addresses (1), lookups (6); result ok`,
		`routes differ (2 missing, 2 extra); lookups differ (3 missing, 3 extra); identical: addresses (1)`,
	} {
		if !strings.Contains(h, want) {
			t.Errorf("HTML lacks %q", want)
		}
	}
	if strings.Contains(h, `class="note"`) {
		t.Errorf("a note where the trace agrees with the run:\n%s", h)
	}
}

// Nothing is fetched: no external URL, no script or stylesheet file.
func TestHTMLSelfContained(t *testing.T) {
	_, h := traced(t)
	ext := regexp.MustCompile(`(?i)(src|href)\s*=\s*["']?\s*(https?:)?//`)
	if m := ext.FindString(h); m != "" {
		t.Errorf("the page refers outside itself: %q", m)
	}
	for _, bad := range []string{"http://", "https://", "<script", "<link", "<img", "@import", "url("} {
		if strings.Contains(h, bad) {
			t.Errorf("the page holds %q", bad)
		}
	}
}

// A trace that does not fail as the run did says so, and shows the run's
// comparison as recorded.
func TestHTMLTraceDisagrees(t *testing.T) {
	d, _ := Replay("legacy", legacy.New(), kbCfg, kb, nil)
	steps, err := Trace("legacy", fixed.New(), kbCfg, kb)
	if err != nil {
		t.Fatal(err)
	}
	h := string(d.HTMLWith(HTMLOptions{Steps: steps}))
	for _, want := range []string{
		"it agreed with the model at every step",
		`<details class="step diverges" id="recorded" data-step="3" open>`,
		"none on the replay traced for this report",
	} {
		if !strings.Contains(h, want) {
			t.Errorf("HTML lacks %q:\n%s", want, h)
		}
	}
}

// crashes crashes on its second op.
type crashes struct {
	fixed.Stack
	n int
}

func (s *crashes) Reset(cfg model.Config) error { s.n = 0; return s.Stack.Reset(cfg) }

func (s *crashes) Apply(op model.Op) error {
	if s.n++; s.n == 2 {
		return fmt.Errorf("exited with status 2: %w", sut.ErrCrash)
	}
	return s.Stack.Apply(op)
}

func TestHTMLCrash(t *testing.T) {
	d, err := Replay("crashy", &crashes{}, kbCfg, kb, nil)
	if err != nil || d == nil || d.Failed != "crash" {
		t.Fatalf("got %v %v", d, err)
	}
	steps, err := Trace("crashy", &crashes{}, kbCfg, kb)
	if err != nil || len(steps) != 3 || steps[2].Failed != "crash" {
		t.Fatalf("trace: %d steps, %v", len(steps), err)
	}
	h := string(d.HTMLWith(HTMLOptions{Steps: steps}))
	for _, want := range []string{
		"<h1>crashy crashed on op 2</h1>",
		`<details class="step diverges" id="step-2" data-step="2" open>`,
		"exited with status 2: stack crashed",
		`<tr class="unknown"><td class="m"></td><td class="want">a0 10.0.0.1/24</td><td class="got">?</td></tr>`,
	} {
		if !strings.Contains(h, want) {
			t.Errorf("HTML lacks %q:\n%s", want, h)
		}
	}
}

// TestHTMLInBrowser renders the report in a real headless browser, checks
// that every step is in the DOM it built with the diverging one marked
// and unfolded, and takes a screenshot. Without a browser it skips.
// ROUTEFUZZ_SCREENSHOT=file.png keeps the screenshot.
func TestHTMLInBrowser(t *testing.T) {
	bin, err := browser.Find()
	if err != nil {
		if os.Getenv("ROUTEFUZZ_NEED_BROWSER") != "" {
			t.Fatalf("ROUTEFUZZ_NEED_BROWSER is set: %v", err)
		}
		t.Skipf("no browser to render the report in: %v", err)
	}
	d, h := traced(t)
	dir := t.TempDir()
	page := filepath.Join(dir, "report.html")
	if err := os.WriteFile(page, []byte(h), 0o644); err != nil {
		t.Fatal(err)
	}
	png := filepath.Join(dir, "report.png")
	if p := os.Getenv("ROUTEFUZZ_SCREENSHOT"); p != "" {
		png = p
	}
	dom, err := browser.Render(t.Context(), bin, page, png, 1200, 1600)
	if err != nil {
		t.Fatal(err)
	}
	ms := stepOpen.FindAllStringSubmatch(dom, -1)
	if len(ms) != len(d.Ops)+1 {
		t.Fatalf("the browser's DOM has %d steps, want %d:\n%s", len(ms), len(d.Ops)+1, dom)
	}
	for i, m := range ms {
		last := i == len(d.Ops)
		if m[2] != fmt.Sprint(i) || (m[4] != "") != last || (m[1] == "diverges") != last {
			t.Errorf("step %d in the DOM: %q", i, m[0])
		}
	}
	for i, op := range d.Ops {
		if !strings.Contains(dom, fmt.Sprintf(`<a href="#step-%d">%s</a>`, i+1, op)) {
			t.Errorf("the DOM lacks op %d, %s", i+1, op)
		}
	}
	b, err := os.ReadFile(png)
	if err != nil || len(b) < 8 || string(b[1:4]) != "PNG" {
		t.Fatalf("the screenshot is not a PNG: %v", err)
	}
	t.Logf("rendered in %s; screenshot %s (%d bytes)", bin, png, len(b))
}

func ExampleTrace() {
	steps, _ := Trace("legacy", legacy.New(), kbCfg, kb)
	i := FirstDivergence(steps)
	fmt.Println(len(steps), "steps; first diverges after op", steps[i].N, steps[i].Op)
	// Output: 4 steps; first diverges after op 3 del a1 10.0.0.2/24
}

// An observable added to the registry (route lookups, say) is in every
// step of the page, with no change to the report.
func TestHTMLShowsEveryObservable(t *testing.T) {
	lines := func(as []model.Addr) []string {
		var ls []string
		for _, a := range as {
			ls = append(ls, "lookup "+a.Prefix.Addr().String()+" via "+a.Adapter)
		}
		return ls
	}
	echoes := &Def[[]string]{
		Name: "echoes", Title: "Echoes",
		Model: func(m *model.State, _ sut.Limits) []string { return lines(m.Addrs()) },
		Stack: func(s sut.Stack, _ *model.State, _ sut.Limits) ([]string, error) {
			as, err := s.Addrs()
			return lines(as), err
		},
		Equal: func(a, b []string) bool { return strings.Join(a, "\n") == strings.Join(b, "\n") },
		Rows: func(want, got []string) []Row {
			var rows []Row
			for i := range max(len(want), len(got)) {
				var r Row
				if i < len(want) {
					r.Want = want[i]
				}
				if i < len(got) {
					r.Got = got[i]
				}
				rows = append(rows, r)
			}
			return rows
		},
	}
	saved := Observables
	Observables = append(slices.Clone(saved), echoes)
	defer func() { Observables = saved }()
	d, h := traced(t)
	if n := strings.Count(h, `<table class="obs" data-observable="echoes">`); n != len(d.Ops)+1 {
		t.Errorf("%d echo tables, want one a step, %d", n, len(d.Ops)+1)
	}
	for _, want := range []string{
		"<h3>Echoes</h3>",
		`<td class="want">lookup 10.0.0.2 via a1</td><td class="got">lookup 10.0.0.2 via a1</td>`,
		"identical: routes (6), addresses (2), lookups (10), echoes (2); result ok",
	} {
		if !strings.Contains(h, want) {
			t.Errorf("HTML lacks %q", want)
		}
	}
}
