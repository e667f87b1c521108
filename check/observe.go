package check

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/routefuzz/routefuzz/model"
	"github.com/routefuzz/routefuzz/sut"
)

// Observables lists what is compared after every step besides the op's
// result, in the order it is read, compared and reported. Each is defined
// once, by a Def; the comparison (Run), the text and HTML reports, Same
// and the corpus iterate this list and know nothing else of them, as
// they know nothing of the ops. Adding an observable is adding its Def
// here.
var Observables = []Observable{Routes, Addrs, Lookups}

// An Observable is one entry of Observables: a *Def of some type.
type Observable interface {
	// String names it in aspects, reports and errors: "routes".
	String() string
	// Aspect is its bit in a divergence's Aspects.
	Aspect() Aspect
	// ModelValue is the model's value, as a stack that supports
	// everything shows it: what a corpus want section records.
	ModelValue(m *model.State) any
	// Format writes a value as the lines of a want section, in the one
	// grammar; Parse reads them back, and its error says which line.
	Format(v any) string
	Parse(lines []string) (any, error)
	// EqualValues compares two values; TextValues shows them side by side.
	EqualValues(a, b any) bool
	TextValues(aName, bName string, a, b any) string
	// Differences returns the lines, in the one grammar, that only the
	// first value shows (missing from the second) and only the second
	// (extra in it).
	Differences(want, got any) (missing, extra []string)
	// ShownBy reports whether a stack with limits l shows it, and so
	// whether a run compares it.
	ShownBy(s sut.Stack, l sut.Limits) bool
	equal(want, got any) bool
	fromModel(m *model.State, l sut.Limits) any
	text(wantName, gotName string, want, got any) string
	rows(want, got any) []Row
	describe(want, got any) string
	always() bool
	derived() bool
	note() string
	title() string
	reader(s, ref sut.Stack) reader
	stackValue(s sut.Stack, m *model.State, l sut.Limits) (any, error)
}

// Def defines an observable whose values are of type T: how to read it
// from the model and from a stack, how to compare it, and how to show it.
type Def[T any] struct {
	// Name names it in aspects, reports and errors: "routes".
	Name string
	// Title heads its table in the HTML report: "Routes".
	Title string
	// Model reads what the model says, as a stack with limits l shows it.
	Model func(m *model.State, l sut.Limits) T
	// Stack reads what the stack shows, as its limits l allow; m is the
	// model's state after the same ops (lookups ask of the probes it
	// derives).
	Stack func(s sut.Stack, m *model.State, l sut.Limits) (T, error)
	// Shown, if not nil, says whether a stack can show it at all (it
	// implements an optional interface). Either way a stack whose
	// sut.Limits.Observables leave it out does not show it.
	Shown func(s sut.Stack) bool
	// Equal compares the two.
	Equal func(want, got T) bool
	// Lags says a stack may show the effect of an op late (sut.Lagger):
	// a differing reading is re-read before it counts.
	Lags bool
	// Always says the report shows it even when the two agree.
	Always bool
	// Derived says its values follow from another observable's (lookups
	// from the routes): for shrinking, a failure that differs in it and
	// in another is the same as one that differs in the other alone
	// (Aspect.Essential).
	Derived bool
	// Text renders both for the text report, the differences marked.
	Text func(wantName, gotName string, want, got T) string
	// Rows renders both as the rows of a two-column table.
	Rows func(want, got T) []Row
	// Note, if not empty, follows its HTML table; %[1]s is the stack.
	Note string
	// Describe says in a phrase how they differ, for a corpus header.
	Describe func(want, got T) string
	// Line formats one element; ParseLine reads one back. Together they
	// are the value's text in a corpus want section, one element a line.
	Lines     func(v T) []string
	ParseLine func(line string) (T, error) // a one-element value
	Join      func(parts []T) T
}

// A LineError is an error in line Line (counting from 0) of a want
// section.
type LineError struct {
	Line int
	Err  error
}

func (e *LineError) Error() string { return e.Err.Error() }
func (e *LineError) Unwrap() error { return e.Err }

// A Row is one row of an observable's two-column table: the model's side
// and the stack's, "" where a side lacks it.
type Row struct{ Want, Got string }

// String returns d.Name.
func (d *Def[T]) String() string { return d.Name }

// Aspect returns d's bit in Aspects, from its place in Observables.
func (d *Def[T]) Aspect() Aspect {
	i := slices.Index(Observables, Observable(d))
	if i < 0 {
		return 0
	}
	return ResultAspect << (1 + i)
}

// Of returns the two values of d in a divergence (zero values when d was
// not read).
func (d *Def[T]) Of(dv *Divergence) (want, got T) {
	for _, o := range dv.Observed {
		if o.Of == Observable(d) {
			want, _ = o.Want.(T)
			got, _ = o.Got.(T)
			return want, got
		}
	}
	return want, got
}

func (d *Def[T]) values(want, got any) (T, T) {
	w, _ := want.(T)
	g, _ := got.(T)
	return w, g
}

func (d *Def[T]) equal(want, got any) bool { return d.Equal(d.values(want, got)) }

// ModelValue implements Observable.
func (d *Def[T]) ModelValue(m *model.State) any { return d.Model(m, sut.All) }

// Format implements Observable.
func (d *Def[T]) Format(v any) string {
	t, _ := v.(T)
	var b strings.Builder
	for _, l := range d.Lines(t) {
		b.WriteString(l)
		b.WriteByte('\n')
	}
	return b.String()
}

// Parse implements Observable.
func (d *Def[T]) Parse(lines []string) (any, error) {
	var parts []T
	for i, l := range lines {
		v, err := d.ParseLine(l)
		if err != nil {
			return nil, &LineError{Line: i, Err: err}
		}
		parts = append(parts, v)
	}
	return d.Join(parts), nil
}

// EqualValues implements Observable.
func (d *Def[T]) EqualValues(a, b any) bool { return d.equal(a, b) }

// TextValues implements Observable.
func (d *Def[T]) TextValues(aName, bName string, a, b any) string { return d.text(aName, bName, a, b) }

// Differences implements Observable, from Rows: a row with only the
// first side is missing, one with only the second extra.
func (d *Def[T]) Differences(want, got any) (missing, extra []string) {
	for _, r := range d.rows(want, got) {
		switch {
		case r.Got == "":
			missing = append(missing, r.Want)
		case r.Want == "":
			extra = append(extra, r.Got)
		}
	}
	return missing, extra
}

// ShownBy implements Observable.
func (d *Def[T]) ShownBy(s sut.Stack, l sut.Limits) bool {
	return l.Shows(d.Name) && (d.Shown == nil || d.Shown(s))
}

func (d *Def[T]) fromModel(m *model.State, l sut.Limits) any { return d.Model(m, l) }

func (d *Def[T]) text(wantName, gotName string, want, got any) string {
	w, g := d.values(want, got)
	return d.Text(wantName, gotName, w, g)
}

func (d *Def[T]) rows(want, got any) []Row { return d.Rows(d.values(want, got)) }

func (d *Def[T]) describe(want, got any) string { return d.Describe(d.values(want, got)) }
func (d *Def[T]) always() bool                  { return d.Always }
func (d *Def[T]) derived() bool                 { return d.Derived }
func (d *Def[T]) note() string                  { return d.Note }
func (d *Def[T]) title() string                 { return d.Title }
func (d *Def[T]) reader(s, ref sut.Stack) reader {
	off := !d.ShownBy(s, sut.LimitsOf(s)) || ref != nil && !d.ShownBy(ref, sut.LimitsOf(ref))
	return &readerOf[T]{def: d, off: off}
}

// Observed is one observable's two values in a divergence. Off says the
// stack (or the reference) does not show it (Observable.ShownBy): it was
// neither read nor compared, and reports leave it out.
type Observed struct {
	Of        Observable
	Want, Got any
	Off       bool
}

// Differs reports whether the stack's value differs from the model's.
func (o Observed) Differs() bool { return !o.Of.equal(o.Want, o.Got) }

// A reader reads one observable for a run, keeping its last two values
// typed, so that a step that agrees allocates nothing.
type reader interface {
	// read reads both sides and reports whether they agree.
	read(r *Run) (bool, error)
	// wanted reads the model's side only, the stack's being unknown.
	wanted(r *Run)
	observed() Observed
}

type readerOf[T any] struct {
	def       *Def[T]
	want, got T
	// off: the stack (or the reference) does not show it; it is
	// neither read nor compared, and both values stay zero.
	off bool
}

func (x *readerOf[T]) wanted(r *Run) {
	var zero T
	x.want, x.got = zero, zero
	if r.ref == nil && !x.off {
		x.want = x.def.Model(r.model, r.limits)
	}
}

func (x *readerOf[T]) read(r *Run) (bool, error) {
	if x.off {
		return true, nil
	}
	if r.ref == nil {
		x.want = x.def.Model(r.model, r.limits)
	} else if err := x.readRef(r); err != nil {
		return false, err
	}
	got, err := x.stack(r)
	if err != nil {
		return false, err
	}
	x.got = got
	if x.def.Equal(x.want, x.got) {
		return true, nil
	}
	if x.def.Lags {
		return x.settle(r)
	}
	return false, nil
}

func (x *readerOf[T]) stack(r *Run) (T, error) {
	v, err := x.def.Stack(r.stack, r.model, r.limits)
	if err != nil {
		return v, fmt.Errorf("%s: reading %s %s: %w", r.name, x.def.Name, r.when(), err)
	}
	return v, nil
}

// settle re-reads a differing value for as long as the stack says its
// tables may still lag its ops (sut.Lagger), with a backoff, keeping the
// last value read.
func (x *readerOf[T]) settle(r *Run) (bool, error) {
	lag, refLag := lagOf(r.stack), time.Duration(0)
	if r.ref != nil {
		refLag = lagOf(r.ref)
	}
	lag = max(lag, refLag)
	if lag <= 0 {
		return false, nil
	}
	backoff := 50 * time.Microsecond
	for deadline := time.Now().Add(lag); time.Now().Before(deadline); backoff *= 2 {
		time.Sleep(backoff)
		r.stats.Retries++
		if refLag > 0 {
			if err := x.readRef(r); err != nil {
				return false, err
			}
		}
		got, err := x.stack(r)
		if err != nil {
			return false, err
		}
		x.got = got
		if x.def.Equal(x.want, x.got) {
			r.stats.Settled++
			return true, nil
		}
	}
	r.stats.GaveUp++
	return false, nil
}

// readRef reads the reference stack's value of a Pair as the wanted one.
func (x *readerOf[T]) readRef(r *Run) error {
	v, err := x.def.Stack(r.ref, r.model, r.limits)
	if err != nil {
		return &refError{fmt.Errorf("%s (the reference): reading %s %s: %w", r.refName, x.def.Name, r.when(), err)}
	}
	x.want = v
	return nil
}

func (x *readerOf[T]) observed() Observed {
	return Observed{Of: x.def, Want: x.want, Got: x.got, Off: x.off}
}

// Routes is the route table, only the route kinds the stack reports
// (sut.Limits.Kinds). A stack's table may lag its ops.
var Routes = &Def[model.Table]{
	Name:  "routes",
	Title: "Routes",
	Model: func(m *model.State, l sut.Limits) model.Table { return m.Routes().Filter(l.Kinds) },
	Stack: func(s sut.Stack, _ *model.State, l sut.Limits) (model.Table, error) {
		t, err := s.Routes()
		if err != nil {
			return nil, err
		}
		return t.Filter(l.Kinds), nil
	},
	Equal:  model.Table.Equal,
	Lags:   true,
	Always: true,
	Text:   SideBySide,
	Rows: func(want, got model.Table) []Row {
		var rows []Row
		for _, l := range model.Diff(want, got) {
			var r Row
			if l.InWant {
				r.Want = l.Want.String()
			}
			if l.InGot {
				r.Got = l.Got.String()
			}
			rows = append(rows, r)
		}
		return rows
	},
	Note: "Rows in red are missing from %[1]s; rows in green are extra.",
	Describe: func(want, got model.Table) string {
		if diff := Diff(want, got); diff.Missing > 0 || diff.Extra > 0 {
			return fmt.Sprintf("%d route(s) missing and %d extra after the last op", diff.Missing, diff.Extra)
		}
		return ""
	},
	Lines: func(t model.Table) []string {
		lines := make([]string, len(t))
		for i, r := range t {
			lines[i] = r.String()
		}
		return lines
	},
	ParseLine: func(line string) (model.Table, error) {
		r, err := model.ParseRoute(line)
		return model.Table{r}, err
	},
	Join: func(parts []model.Table) model.Table { return model.NewTable(slices.Concat(parts...)) },
}

// Addrs is the address list, sorted by model.Addr.Compare.
var Addrs = &Def[[]model.Addr]{
	Name:  "addresses",
	Title: "Addresses",
	Model: func(m *model.State, _ sut.Limits) []model.Addr { return m.Addrs() },
	Stack: func(s sut.Stack, _ *model.State, _ sut.Limits) ([]model.Addr, error) { return s.Addrs() },
	Equal: slices.Equal[[]model.Addr],
	Text:  func(_, gotName string, want, got []model.Addr) string { return addrDiff(gotName, want, got) },
	Rows: func(want, got []model.Addr) []Row {
		var rows []Row
		for _, l := range addrLines(want, got) {
			rows = append(rows, Row{l.want, l.got})
		}
		return rows
	},
	Describe: func(want, got []model.Addr) string { return "the addresses differ" },
	Lines: func(as []model.Addr) []string {
		lines := make([]string, len(as))
		for i, a := range as {
			lines[i] = a.String()
		}
		return lines
	},
	ParseLine: func(line string) ([]model.Addr, error) {
		a, err := model.ParseAddr(line)
		return []model.Addr{a}, err
	},
	Join: func(parts [][]model.Addr) []model.Addr {
		as := slices.Concat(parts...)
		slices.SortFunc(as, model.Addr.Compare)
		return as
	},
}

// Lookups are the answers to route lookups of the probes the model
// derives from its state (model.State.Probes), of the families the stack
// takes, one line each (model.LookupResult); compared only with a stack
// that is a sut.Looker. The model's answer may accept several (a tie the
// kernel breaks by what the model does not see); the stack's must be one
// of them. Read after the routes, so that a lagging table has settled.
var Lookups = &Def[[]model.LookupResult]{
	Name:  "lookups",
	Title: "Route lookups",
	Model: func(m *model.State, l sut.Limits) []model.LookupResult { return m.Lookups(l.IPv4, l.IPv6) },
	Stack: func(s sut.Stack, m *model.State, l sut.Limits) ([]model.LookupResult, error) {
		want := m.Lookups(l.IPv4, l.IPv6)
		probes := make([]netip.Addr, len(want))
		for i, w := range want {
			probes[i] = w.Dst
		}
		ls, err := readLookups(s, probes)
		if err != nil {
			return nil, err
		}
		// An answer the model accepts among others (a tie it cannot
		// break) stands for all of them, so that two stacks compared
		// with each other (Pair) agree when each breaks the tie its own
		// way; against the model it changes nothing.
		for i, l := range ls {
			if w := want[i]; len(w.Or) > 0 && w.Dst == l.Dst && w.Accepts(l.Hop) {
				ls[i] = w
			}
		}
		return ls, nil
	},
	Shown:   func(s sut.Stack) bool { _, ok := s.(sut.Looker); return ok },
	Equal:   model.EqualLookups,
	Lags:    true,
	Derived: true,
	Text:    lookupText,
	Rows: func(want, got []model.LookupResult) []Row {
		var rows []Row
		for i := range max(len(want), len(got)) {
			var w, g model.LookupResult
			if i < len(want) {
				w = want[i]
			}
			if i < len(got) {
				g = got[i]
			}
			switch {
			case i < len(want) && i < len(got) && w.Agrees(g):
				rows = append(rows, Row{w.String(), g.String()})
			default:
				if i < len(want) {
					rows = append(rows, Row{Want: w.String()})
				}
				if i < len(got) {
					rows = append(rows, Row{Got: g.String()})
				}
			}
		}
		return rows
	},
	Note: "A red row is the answer %[1]s should have given (any one of those joined by \"or\"); the green row below it is the answer it gave.",
	Describe: func(want, got []model.LookupResult) string {
		n := 0
		for i := range min(len(want), len(got)) {
			if !want[i].Agrees(got[i]) {
				n++
			}
		}
		return fmt.Sprintf("%d route lookup(s) answered differently after the last op", n)
	},
	Lines: func(ls []model.LookupResult) []string {
		lines := make([]string, len(ls))
		for i, l := range ls {
			lines[i] = l.String()
		}
		return lines
	},
	ParseLine: func(line string) ([]model.LookupResult, error) {
		l, err := model.ParseLookup(line)
		return []model.LookupResult{l}, err
	},
	Join: func(parts [][]model.LookupResult) []model.LookupResult {
		ls := slices.Concat(parts...)
		slices.SortStableFunc(ls, func(a, b model.LookupResult) int { return a.Dst.Compare(b.Dst) })
		return ls
	},
}

// readLookups asks s for the lookup of every probe, in order.
func readLookups(s sut.Stack, probes []netip.Addr) ([]model.LookupResult, error) {
	lk, ok := s.(sut.Looker)
	if !ok {
		return nil, errors.New("it answers no lookups (not a sut.Looker)")
	}
	if b, ok := s.(sut.BatchLooker); ok {
		return b.LookupAll(probes)
	}
	out := make([]model.LookupResult, len(probes))
	for i, p := range probes {
		l, err := lk.Lookup(p)
		if err != nil {
			return nil, fmt.Errorf("lookup %s: %w", p, err)
		}
		l.Dst, l.Or = p, nil
		out[i] = l
	}
	return out, nil
}

// lookupText shows the probes whose answers differ, the model's (or the
// reference's) beside the stack's, and how many agree.
func lookupText(wantName, gotName string, want, got []model.LookupResult) string {
	var b strings.Builder
	width := len(wantName)
	var diff []int
	or := false
	for i := range min(len(want), len(got)) {
		if !want[i].Agrees(got[i]) {
			diff = append(diff, i)
			width = max(width, len(want[i].String()))
			or = or || len(want[i].Or) > 0
		}
	}
	fmt.Fprintf(&b, "lookups (%d of %d probes answered differently", len(diff), len(want))
	if or {
		fmt.Fprintf(&b, "; %s accepts any answer joined by \"or\"", wantName)
	}
	b.WriteString("):\n")
	fmt.Fprintf(&b, "    %-*s | %s\n", width, wantName, gotName)
	for _, i := range diff {
		fmt.Fprintf(&b, "  ! %-*s | %s\n", width, want[i].String(), got[i].String())
	}
	if len(want) != len(got) {
		fmt.Fprintf(&b, "  ! %d probes | %d answers\n", len(want), len(got))
	}
	return b.String()
}

// SameModel reports whether two models show the same value of every
// observable, as a stack that supports everything would.
func SameModel(a, b *model.State) bool {
	for _, o := range Observables {
		if !o.equal(o.fromModel(a, sut.All), o.fromModel(b, sut.All)) {
			return false
		}
	}
	return true
}
