package check

import (
	"bytes"
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
<h2>Routes after op {{.N}}</h2>
<table><tr><th></th><th>model</th><th>{{.D.SUT}}</th></tr>
{{range .Lines}}<tr class="{{.Class}}"><td class="m">{{.Mark}}</td><td class="want">{{.Want}}</td><td class="got">{{.Got}}</td></tr>
{{end}}</table>
<p>Rows in red are missing from {{.D.SUT}}; rows in green are extra.</p>
{{if .Addrs}}<h2>Addresses after op {{.N}}</h2>
<table><tr><th></th><th>model</th><th>{{.D.SUT}}</th></tr>
{{range .Addrs}}<tr class="{{.Class}}"><td class="m">{{.Mark}}</td><td class="want">{{.Want}}</td><td class="got">{{.Got}}</td></tr>
{{end}}</table>{{end}}
</body></html>
`))

// HTML returns the report as one self-contained HTML page.
func (d *Divergence) HTML() []byte {
	type line struct{ Class, Mark, Want, Got string }
	var lines []line
	for _, l := range diffLines(d) {
		var ln line
		if l.InWant {
			ln.Want = l.Want.String()
		}
		if l.InGot {
			ln.Got = l.Got.String()
		}
		switch {
		case !l.InGot:
			ln.Class, ln.Mark = "missing", "-"
		case !l.InWant:
			ln.Class, ln.Mark = "extra", "+"
		}
		lines = append(lines, ln)
	}
	var addrs []line
	if d.Aspects()&AddrsAspect != 0 {
		for _, l := range addrLines(d.WantAddrs, d.GotAddrs) {
			ln := line{Want: l.want, Got: l.got}
			switch {
			case l.got == "":
				ln.Class, ln.Mark = "missing", "-"
			case l.want == "":
				ln.Class, ln.Mark = "extra", "+"
			}
			addrs = append(addrs, ln)
		}
	}
	var b bytes.Buffer
	err := page.Execute(&b, map[string]any{"D": d, "N": len(d.Ops), "Aspects": d.Aspects().String(), "Lines": lines, "Addrs": addrs})
	if err != nil {
		return []byte("routefuzz: rendering the report: " + err.Error())
	}
	return b.Bytes()
}
