package check

import (
	"bytes"
	"fmt"
	"html/template"
)

var page = template.Must(template.New("report").Funcs(template.FuncMap{"inc": func(i int) int { return i + 1 }}).Parse(`<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>routefuzz: {{.D.SUT}} diverges</title>
<style>
body{font-family:system-ui,sans-serif;margin:2em;color:#222}
code,td,li{font-family:ui-monospace,monospace;font-size:14px}
table{border-collapse:collapse;margin:1em 0}
td,th{padding:2px 12px;border-bottom:1px solid #eee;text-align:left;vertical-align:top}
tr.missing td.want{background:#fdd}
tr.extra td.got{background:#dfd}
tr.missing td.m,tr.extra td.m{font-weight:bold}
li.last{font-weight:bold}
.differs{color:#b00;font-weight:bold}
</style></head><body>
<h1>{{.D.SUT}} diverges from the model in {{.Aspects}}</h1>
<p>{{.D.Config}}</p>
<h2>Operations</h2>
<ol>{{range $i, $op := .D.Ops}}<li{{if eq (inc $i) $.N}} class="last"{{end}}>{{$op}}</li>{{end}}</ol>
{{if .N}}<p>Result of op {{.N}}: model <code>{{.D.WantResult}}</code>, {{.D.SUT}} <code>{{.D.GotResult}}</code>{{if ne .D.WantResult .D.GotResult}} <span class="differs">differs</span>{{end}}{{if .D.GotMsg}} ({{.D.GotMsg}}){{end}}</p>{{end}}
{{range .Sections}}<h2>{{.Title}} after op {{$.N}}</h2>
<table><tr><th></th><th>model</th><th>{{$.D.SUT}}</th></tr>
{{range .Rows}}<tr class="{{.Class}}"><td class="m">{{.Mark}}</td><td class="want">{{.Want}}</td><td class="got">{{.Got}}</td></tr>
{{end}}</table>
{{if .Note}}<p>{{.Note}}</p>
{{end}}{{end}}
</body></html>
`))

// HTML returns the report as one self-contained HTML page: the ops, the
// results, then a table for each observable that Report shows.
func (d *Divergence) HTML() []byte {
	type line struct{ Class, Mark, Want, Got string }
	type section struct {
		Title, Note string
		Rows        []line
	}
	var sections []section
	for _, o := range d.Observed {
		if !o.Of.always() && !o.Differs() {
			continue
		}
		sec := section{Title: o.Of.title()}
		if n := o.Of.note(); n != "" {
			sec.Note = fmt.Sprintf(n, d.SUT)
		}
		for _, r := range o.Of.rows(o.Want, o.Got) {
			ln := line{Want: r.Want, Got: r.Got}
			switch {
			case r.Got == "":
				ln.Class, ln.Mark = "missing", "-"
			case r.Want == "":
				ln.Class, ln.Mark = "extra", "+"
			}
			sec.Rows = append(sec.Rows, ln)
		}
		sections = append(sections, sec)
	}
	var b bytes.Buffer
	err := page.Execute(&b, map[string]any{"D": d, "N": len(d.Ops), "Aspects": d.Aspects().String(), "Sections": sections})
	if err != nil {
		return []byte("routefuzz: rendering the report: " + err.Error())
	}
	return b.Bytes()
}
