package check

import (
	"bytes"
	"fmt"
	"html/template"
	"strings"
)

// HTMLOptions is what the HTML report shows besides the divergence: what
// only its caller knows (the seed, the command line) and the run traced
// step by step (Trace).
type HTMLOptions struct {
	// Seed is the run's seed; 0 leaves it out.
	Seed uint64
	// Command is the command line that reproduces the run; "" leaves it out.
	Command string
	// Steps is the divergence's ops traced from a fresh reset (Trace). Nil
	// shows the last op's comparison only, as the divergence recorded it.
	Steps []Step
	// TraceErr is why tracing stopped short of the last op, if it did.
	TraceErr error
}

var page = template.Must(template.New("report").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>routefuzz: {{.D.SUT}} diverges</title>
<style>
body{font-family:system-ui,sans-serif;margin:2em;color:#222;max-width:75em}
code,td,li,pre{font-family:ui-monospace,monospace;font-size:13px}
pre{background:#f6f6f6;padding:.3em .5em;margin:0;white-space:pre-wrap;word-break:break-all}
dl.run{display:grid;grid-template-columns:max-content auto;gap:.2em 1em}
dl.run dt{font-weight:bold}dl.run dd{margin:0}
table{border-collapse:collapse;margin:.5em 0 1em 0}
td,th{padding:2px 12px;border-bottom:1px solid #eee;text-align:left;vertical-align:top}
th{font-family:system-ui,sans-serif;font-size:13px;color:#555}
tr.missing td.want{background:#fdd}
tr.extra td.got{background:#dfd}
tr.missing td.m,tr.extra td.m{font-weight:bold}
tr.unknown td.got{color:#999}
li.last{font-weight:bold}
li.diverges{color:#b00;font-weight:bold}
.differs{color:#b00;font-weight:bold}
details.step{border:1px solid #ddd;border-radius:4px;margin:.3em 0;padding:.2em .6em}
details.step>summary{cursor:pointer;font-family:ui-monospace,monospace;font-size:13px}
details.same>summary{color:#666}
details.diverges{border:2px solid #b00;background:#fff8f8}
details.differs{border-color:#e99}
.n{display:inline-block;min-width:2.5em;font-weight:bold}
.badge{background:#b00;color:#fff;border-radius:3px;padding:0 .4em;margin-left:.5em;font-family:system-ui,sans-serif}
.note{background:#fff6d6;padding:.5em;border-left:4px solid #e0b000}
h3{font-size:14px;margin:.6em 0 0 0}
</style></head><body>
{{if .Failed}}<h1>{{.D.SUT}} {{.Failed}} {{if .D.Ops}}on op {{len .D.Ops}}{{else}}after a reset{{end}}</h1>
{{else}}<h1>{{.D.SUT}} diverges from {{.D.Reference}} in {{.Aspects}}</h1>
{{end}}<dl class="run">
<dt>stack</dt><dd><code>{{.D.SUT}}</code></dd>
<dt>configuration</dt><dd><code id="config">{{.D.Config}}</code></dd>
{{if .Seed}}<dt>seed</dt><dd><code id="seed">{{.Seed}}</code></dd>
{{end}}{{if .Command}}<dt>reproduce</dt><dd><pre id="command">{{.Command}}</pre></dd>
{{end}}<dt>first divergence</dt><dd>{{if .First}}<a href="#step-{{.First.N}}">{{if .First.N}}after op {{.First.N}}{{else}}after the reset{{end}}</a>{{else}}none on the replay traced for this report{{end}}</dd>
</dl>
<h2>Operations ({{len .D.Ops}})</h2>
<ol id="ops">{{range .Ops}}<li{{if .Class}} class="{{.Class}}"{{end}}>{{if .Link}}<a href="#step-{{.N}}">{{.Op}}</a>{{else}}{{.Op}}{{end}}</li>{{end}}</ol>
{{range .Notes}}<p class="note">{{.}}</p>
{{end}}<h2>Step by step</h2>
<p>The tables of {{.D.Reference}} and of {{.D.SUT}} after every step, traced from a fresh reset. Steps that agree are folded; click one to unfold it.</p>
{{range .Steps}}{{template "step" .}}{{end}}
{{if .Recorded}}<h2>As the run recorded it</h2>
{{template "step" .Recorded}}{{end}}
</body></html>
{{define "step"}}<details class="step {{.Class}}" id="{{.ID}}" data-step="{{.N}}"{{if .Open}} open{{end}}>
<summary><span class="n">{{if .N}}{{.N}}{{else}}reset{{end}}</span> {{if .N}}<code>{{.Op}}</code>{{end}}{{if .First}}<span class="badge">first divergence</span>{{end}} &mdash; {{.Summary}}</summary>
{{if .N}}<p>Result of op {{.N}}: {{.Ref}} <code>{{.Want}}</code>, {{.SUT}} <code>{{.Got}}</code>{{if .ResultDiffers}} <span class="differs">differs</span>{{end}}{{if .Msg}} ({{.Msg}}){{end}}</p>
{{else if .Msg}}<p>{{.SUT}} said: {{.Msg}}</p>
{{end}}{{range .Sections}}<h3>{{.Title}}{{if .Differs}} <span class="differs">differ</span>{{end}}</h3>
<table class="obs" data-observable="{{.Name}}"><tr><th></th><th>{{$.Ref}}</th><th>{{$.SUT}}</th></tr>
{{range .Rows}}<tr{{if .Class}} class="{{.Class}}"{{end}}><td class="m">{{.Mark}}</td><td class="want">{{.Want}}</td><td class="got">{{.Got}}</td></tr>
{{else}}<tr><td class="m"></td><td class="want">(empty)</td><td class="got">(empty)</td></tr>
{{end}}</table>
{{if .Note}}<p>{{.Note}}</p>
{{end}}{{end}}</details>
{{end}}`))

type htmlLine struct{ Class, Mark, Want, Got string }

type htmlSection struct {
	Name, Title, Note string
	Differs           bool
	Rows              []htmlLine
}

type htmlStep struct {
	N                   int
	ID, Class, SUT, Msg string
	Ref                 string // the reference's column: "model" or a stack
	Op                  string
	Want, Got           string
	ResultDiffers       bool
	First, Open         bool
	Summary             string
	Sections            []htmlSection
}

type htmlOp struct {
	N         int
	Op, Class string
	Link      bool // the page has its step
}

// HTML returns the report as one self-contained HTML page (no scripts,
// nothing fetched): the ops, then the last op's results and a table for
// each observable. HTMLWith shows every step.
func (d *Divergence) HTML() []byte { return d.HTMLWith(HTMLOptions{}) }

// HTMLWith returns the report as one self-contained HTML page: the
// configuration, the seed and the command that reproduces the run, the
// ops, then for every step of o.Steps the two results and each of
// Observables, model and stack side by side, the differences highlighted.
// The first step that differs is marked and unfolded; the others are
// folded, but every step is in the page. Without o.Steps it shows the last
// op's comparison only, as d recorded it.
func (d *Divergence) HTMLWith(o HTMLOptions) []byte {
	steps := o.Steps
	var notes []string
	var recorded *htmlStep
	if steps == nil {
		steps = []Step{d.last()}
	} else {
		if o.TraceErr != nil {
			notes = append(notes, fmt.Sprintf("Tracing the ops for this report stopped after %d of %d: %v", max(len(steps)-1, 0), len(d.Ops), o.TraceErr))
		}
		if i := FirstDivergence(steps); i < 0 || steps[i].N != len(d.Ops) || !steps[i].same(d.last()) {
			notes = append(notes, fmt.Sprintf("The replay traced for this report did not fail as the run did (it %s). The run's own comparison after op %d is shown last.", d.traceSays(steps, i), len(d.Ops)))
			r := d.htmlStep(d.last(), false)
			r.ID, r.Class, r.Open = "recorded", "diverges", true
			recorded = &r
		}
	}
	first := FirstDivergence(steps)
	var hs []htmlStep
	var firstStep *htmlStep
	for i, s := range steps {
		hs = append(hs, d.htmlStep(s, i == first))
	}
	if first >= 0 {
		firstStep = &hs[first]
	}
	have := map[int]bool{}
	for _, s := range steps {
		have[s.N] = true
	}
	ops := make([]htmlOp, len(d.Ops))
	for i, op := range d.Ops {
		ops[i] = htmlOp{N: i + 1, Op: op.String(), Link: have[i+1]}
		var cls []string
		if i == len(d.Ops)-1 {
			cls = append(cls, "last")
		}
		if firstStep != nil && firstStep.N == i+1 {
			cls = append(cls, "diverges")
		}
		ops[i].Class = strings.Join(cls, " ")
	}
	failed := map[string]string{"crash": "crashed", "hang": "hung"}[d.Failed]
	var b bytes.Buffer
	err := page.Execute(&b, map[string]any{
		"D": d, "Aspects": d.Aspects().String(), "Failed": failed,
		"Seed": o.Seed, "Command": o.Command,
		"Ops": ops, "Steps": hs, "First": firstStep, "Recorded": recorded, "Notes": notes,
	})
	if err != nil {
		return []byte("routefuzz: rendering the report: " + err.Error())
	}
	return b.Bytes()
}

// last returns d's own comparison, after its last op, as a Step.
func (d *Divergence) last() Step {
	s := Step{N: len(d.Ops), WantResult: d.WantResult, GotResult: d.GotResult, GotMsg: d.GotMsg, Failed: d.Failed, Observed: d.Observed}
	if len(d.Ops) > 0 {
		s.Op = d.Ops[len(d.Ops)-1]
	}
	return s
}

// same reports whether s fails as e does, as Divergence.Same compares.
func (s Step) same(e Step) bool {
	if s.N != e.N || s.Failed != e.Failed {
		return false
	}
	if s.Failed != "" {
		return true
	}
	return s.GotResult == e.GotResult && sameGot(s.Observed, e.Observed)
}

func (d *Divergence) traceSays(steps []Step, first int) string {
	switch {
	case first < 0:
		return "agreed with " + d.Reference() + " at every step"
	case steps[first].N == 0:
		return "differed after the reset"
	default:
		return fmt.Sprintf("first differed after op %d", steps[first].N)
	}
}

func (d *Divergence) htmlStep(s Step, first bool) htmlStep {
	h := htmlStep{
		N: s.N, ID: fmt.Sprintf("step-%d", s.N), SUT: d.SUT, Ref: d.RefColumn(),
		Want: s.WantResult.String(), Got: s.GotResult.String(),
		ResultDiffers: s.Failed == "" && s.WantResult != s.GotResult,
		First:         first, Open: first,
	}
	if s.N > 0 {
		h.Op = s.Op.String()
	}
	if h.ResultDiffers || s.Failed != "" {
		h.Msg = s.GotMsg
	}
	if s.Failed != "" {
		h.Got = map[string]string{"crash": "crashed", "hang": "hung"}[s.Failed]
	}
	var same, differ []string
	for _, o := range s.Observed {
		if o.Off {
			continue
		}
		sec := htmlSection{Name: o.Of.String(), Title: o.Of.title()}
		if n := o.Of.note(); n != "" {
			sec.Note = fmt.Sprintf(n, d.SUT)
		}
		got := o.Got
		if s.Failed != "" {
			got = o.Want // the stack's side is unknown: list the model's
		}
		missing, extra := 0, 0
		for _, r := range o.Of.rows(o.Want, got) {
			ln := htmlLine{Want: r.Want, Got: r.Got}
			switch {
			case s.Failed != "":
				ln.Class, ln.Got = "unknown", "?"
			case r.Got == "":
				ln.Class, ln.Mark = "missing", "-"
				missing++
			case r.Want == "":
				ln.Class, ln.Mark = "extra", "+"
				extra++
			}
			sec.Rows = append(sec.Rows, ln)
		}
		switch {
		case s.Failed != "":
		case o.Differs():
			sec.Differs = true
			differ = append(differ, fmt.Sprintf("%s differ (%d missing, %d extra)", o.Of, missing, extra))
		default:
			same = append(same, fmt.Sprintf("%s (%d)", o.Of, len(sec.Rows)))
		}
		h.Sections = append(h.Sections, sec)
	}
	var sum []string
	switch {
	case s.Failed != "":
		h.Class = "diverges"
		sum = append(sum, fmt.Sprintf("%s %s", d.SUT, h.Got))
	case s.Differs():
		h.Class = "differs"
		if h.ResultDiffers {
			sum = append(sum, fmt.Sprintf("result differs: %s %s, %s %s", h.Ref, h.Want, d.SUT, h.Got))
		}
		sum = append(sum, differ...)
		if len(same) > 0 {
			sum = append(sum, "identical: "+strings.Join(same, ", "))
		}
	default:
		h.Class = "same"
		sum = append(sum, "identical: "+strings.Join(same, ", "))
		if s.N > 0 {
			sum = append(sum, "result "+h.Want)
		}
	}
	if first {
		h.Class = "diverges"
	}
	h.Summary = strings.Join(sum, "; ")
	return h
}
