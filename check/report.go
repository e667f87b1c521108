package check

import (
	"fmt"
	"strings"

	"github.com/routefuzz/routefuzz/model"
)

// Divergence is a difference between a stack and the model (or, when Ref
// is set, the reference stack of a Pair) after the last of Ops.
type Divergence struct {
	SUT    string
	Ref    string // the reference stack the stack was compared with (a Pair); "": the model
	Config model.Config
	Ops    []model.Op // every op applied, the last being where they first differed

	WantResult, GotResult model.Result
	GotMsg                string // the stack's error text, if any

	// Observed holds the model's and the stack's value of each of
	// Observables, in order (Routes.Of and Addrs.Of return them typed).
	Observed []Observed

	// Failed is "crash" or "hang" when the stack failed on the last op
	// instead of answering (sut.ErrCrash, sut.ErrHang), and empty
	// otherwise. GotMsg then holds what the stack said, and the observed
	// values are the model's only.
	Failed string
	// FailedBy names the reference stack when it was the reference of a
	// Pair, not the stack, that crashed or hung; "" otherwise.
	FailedBy string

	// Relation, when not empty, names the relation of an Oracle that
	// failed after the last of Ops (a Judged stack), RelationDoc says what
	// it holds, and Sides are the two runs it compared: Observed then
	// holds each observable the relation compares, Want being the first
	// side's value and Got the second's (Off for those it does not
	// compare). Detail, if not empty, says more, for a person.
	Relation    string
	RelationDoc string
	Sides       [2]Side
	Detail      string
}

// Aspect names what differs: the result, an observable (its
// Observable.Aspect), or a crash or a hang.
type Aspect uint16

const (
	ResultAspect Aspect = 1 << iota
	RoutesAspect        // Routes.Aspect(): Observables[0]
	AddrsAspect         // Addrs.Aspect(): Observables[1]
)

const (
	CrashAspect Aspect = 1 << (14 + iota) // the stack crashed on the last op (Failed == "crash")
	HangAspect                            // the stack hung on the last op (Failed == "hang")
)

// Aspects returns what differs, as a set of bits.
func (d *Divergence) Aspects() Aspect {
	var a Aspect
	switch d.Failed {
	case "crash":
		return CrashAspect
	case "hang":
		return HangAspect
	}
	if d.WantResult != d.GotResult {
		a |= ResultAspect
	}
	if d.Relation != "" {
		a |= RelationAspect
	}
	for _, o := range d.Observed {
		if !o.Off && o.Differs() {
			a |= o.Of.Aspect()
		}
	}
	return a
}

// Essential returns a without the aspects of Derived observables, unless
// nothing else is left: what a shrink must keep for a failure to count as
// the same (a route table that is wrong makes its lookups wrong too, or
// not, depending on the order).
func (a Aspect) Essential() Aspect {
	e := a
	for _, o := range Observables {
		if o.derived() {
			e &^= o.Aspect()
		}
	}
	if e == 0 {
		return a
	}
	return e
}

// String returns e.g. "result+routes".
func (a Aspect) String() string {
	var parts []string
	if a&ResultAspect != 0 {
		parts = append(parts, "result")
	}
	for _, o := range Observables {
		if a&o.Aspect() != 0 {
			parts = append(parts, o.String())
		}
	}
	if a&RelationAspect != 0 {
		parts = append(parts, "relation")
	}
	if a&CrashAspect != 0 {
		parts = append(parts, "crash")
	}
	if a&HangAspect != 0 {
		parts = append(parts, "hang")
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, "+")
}

// Differences says in a phrase each what differs besides the result,
// for a corpus header: "2 route(s) missing and 1 extra after the last op".
func (d *Divergence) Differences() []string {
	var ps []string
	for _, o := range d.Observed {
		if o.Differs() {
			if p := o.Of.describe(o.Want, o.Got); p != "" {
				ps = append(ps, p)
			}
		}
	}
	return ps
}

func (d *Divergence) Error() string { return d.Report() }

// Report returns the divergence for a person: the numbered op list, the
// results, then the wanted and actual route tables side by side with the
// differences marked, and the addresses when they differ.
func (d *Divergence) Report() string {
	var b strings.Builder
	if d.Failed != "" {
		verb := map[string]string{"crash": "crashed", "hang": "hung"}[d.Failed]
		who := d.failedName()
		if len(d.Ops) == 0 {
			fmt.Fprintf(&b, "%s %s after a reset, before the first op (%s)\n", who, verb, d.Config)
		} else {
			fmt.Fprintf(&b, "%s %s on op %d (%s)\n", who, verb, len(d.Ops), d.Config)
			b.WriteString(FormatOps(d.Ops))
			if d.FailedBy != "" {
				fmt.Fprintf(&b, "result of op %d: %s %s\n", len(d.Ops), d.FailedBy, verb)
			} else {
				fmt.Fprintf(&b, "result of op %d: %s %s, %s %s\n", len(d.Ops), d.RefColumn(), d.WantResult, d.SUT, verb)
			}
		}
		fmt.Fprintf(&b, "  %s said: %s\n", who, strings.ReplaceAll(strings.TrimRight(d.GotMsg, "\n"), "\n", "\n    "))
		return b.String()
	}
	if d.Relation != "" {
		return d.relationReport()
	}
	fmt.Fprintf(&b, "%s diverges from %s in %s after op %d (%s)\n", d.SUT, d.Reference(), d.Aspects(), len(d.Ops), d.Config)
	b.WriteString(FormatOps(d.Ops))
	mark := func(differs bool) string {
		if differs {
			return "  <- differs"
		}
		return ""
	}
	if len(d.Ops) > 0 {
		fmt.Fprintf(&b, "result of op %d: %s %s, %s %s%s\n", len(d.Ops), d.RefColumn(), d.WantResult, d.SUT, d.GotResult, mark(d.WantResult != d.GotResult))
		if d.GotMsg != "" && d.WantResult != d.GotResult {
			fmt.Fprintf(&b, "  %s said: %s\n", d.SUT, d.GotMsg)
		}
	}
	for _, o := range d.Observed {
		if !o.Off && (o.Of.always() || o.Differs()) {
			b.WriteString(o.Of.text(d.RefColumn(), d.SUT, o.Want, o.Got))
		}
	}
	return b.String()
}

// FormatOps returns the ops one per line, numbered from 1, the last
// marked with '>'.
func FormatOps(ops []model.Op) string {
	var b strings.Builder
	for i, op := range ops {
		m := ' '
		if i == len(ops)-1 {
			m = '>'
		}
		fmt.Fprintf(&b, "%c %3d  %s\n", m, i+1, op)
	}
	return b.String()
}

// SideBySide renders two route tables in two columns, one route per row
// in table order. A row whose route is in only one table is marked '-'
// (missing from got) or '+' (extra in got).
func SideBySide(wantName, gotName string, want, got model.Table) string {
	lines := model.Diff(want, got)
	width := max(len(wantName), len("(empty)"))
	for _, l := range lines {
		if l.InWant {
			width = max(width, len(l.Want.String()))
		}
	}
	var b strings.Builder
	if want.Equal(got) {
		fmt.Fprintf(&b, "routes (%d, identical):\n", len(want))
	} else {
		fmt.Fprintf(&b, "routes (- missing from %s, + extra in %s):\n", gotName, gotName)
	}
	fmt.Fprintf(&b, "    %-*s | %s\n", width, wantName, gotName)
	for _, l := range lines {
		m, w, g := ' ', "", ""
		if l.InWant {
			w = l.Want.String()
		}
		if l.InGot {
			g = l.Got.String()
		}
		switch {
		case !l.InGot:
			m = '-'
		case !l.InWant:
			m = '+'
		}
		fmt.Fprintf(&b, "  %c %-*s | %s\n", m, width, w, g)
	}
	if len(lines) == 0 {
		fmt.Fprintf(&b, "    %-*s | %s\n", width, "(empty)", "(empty)")
	}
	return b.String()
}

type addrLine struct{ want, got string }

// addrLines merges two sorted address lists; a side is "" where the
// address is only in the other.
func addrLines(want, got []model.Addr) []addrLine {
	var out []addrLine
	i, j := 0, 0
	for i < len(want) || j < len(got) {
		switch {
		case j == len(got) || i < len(want) && want[i].Compare(got[j]) < 0:
			out = append(out, addrLine{want: want[i].String()})
			i++
		case i == len(want) || want[i].Compare(got[j]) > 0:
			out = append(out, addrLine{got: got[j].String()})
			j++
		default:
			out = append(out, addrLine{want[i].String(), got[j].String()})
			i++
			j++
		}
	}
	return out
}

func addrDiff(gotName string, want, got []model.Addr) string {
	var b strings.Builder
	fmt.Fprintf(&b, "addresses (- missing from %s, + extra in %s):\n", gotName, gotName)
	for _, l := range addrLines(want, got) {
		switch {
		case l.got == "":
			fmt.Fprintf(&b, "  - %s\n", l.want)
		case l.want == "":
			fmt.Fprintf(&b, "  + %s\n", l.got)
		default:
			fmt.Fprintf(&b, "    %s\n", l.want)
		}
	}
	return b.String()
}

// DiffCount counts the routes that differ between two tables.
type DiffCount struct {
	Missing int // wanted but not got
	Extra   int // got but not wanted
}

// Diff counts the differences between want and got.
func Diff(want, got model.Table) DiffCount {
	var c DiffCount
	for _, l := range model.Diff(want, got) {
		switch {
		case !l.InGot:
			c.Missing++
		case !l.InWant:
			c.Extra++
		}
	}
	return c
}
