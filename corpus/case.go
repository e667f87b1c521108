// Package corpus reads, writes and replays regression cases: minimal
// failing orders of operations, one per file, readable in a code review.
//
// A case is a txtar file (golang.org/x/tools/txtar format): a comment
// header, then sections introduced by "-- name --" lines.
//
//	# KB287032: deleting the second adapter's address takes the first
//	# adapter's subnet route with it.
//	adapters: a0 a1
//	promote: off
//	diverges: legacy
//	-- ops --
//	add a0 10.0.0.1/24
//	add a1 10.0.0.2/24
//	del a1 10.0.0.2/24
//	-- want routes --
//	10.0.0.0/24 dev a0 src 10.0.0.1
//	...
//	-- want addresses --
//	a0 10.0.0.1/24
//
// Every header line is blank, commentary (its first non-blank character is
// '#'), or a directive: "key: value" with one of the keys below, lower
// case, each at most once. Any other header line is an error, so a
// misspelt directive ("Promote: on", "promote on") cannot silently become
// commentary. A UTF-8 byte-order mark at the very start of the file is
// ignored. The directives, all optional:
//
//	adapters: NAME...   the adapters, in order (default: those the ops name, in order of first use)
//	promote: on|off     IPv4 promote_secondaries (default: off, the kernel's default)
//	keep_addr_on_down: on|off
//	                    IPv6 keep_addr_on_down (default: off, the kernel's default)
//	diverges: STACK...  stacks expected to diverge from the model
//	crashes: STACK...   stacks expected to crash on the last op (an external program that dies)
//	hangs: STACK...     stacks expected to hang on the last op (an external program that stops answering)
//	flaky: STACK...     stacks that diverged once on this order, but not when it was replayed
//	breaks: STACK:RELATION...
//	                    stacks expected to break a relation (package relations) on this order
//
// A verdict may name a pair, STACK-vs-REF, instead of a stack: the stack
// compared with the reference stack REF instead of the model (see
// SplitPair). Such a pair case names pairs only and is replayed only as
// them.
//
// Every stack no verdict directive (diverges, crashes, hangs, flaky) names
// must agree with the model; a stack may be named by one of them only.
//
// A case with breaks: is a relation case: it is replayed judged by the
// relations it names, with no model compared (check -oracle relations),
// never against the model. Each stack it names must break its relation
// (reachability, history, undo: the failure a relation's check reports)
// after some op; every other stack that can run it must hold every
// relation the case names. Its want sections still record the model's
// values, for review.
//
// The ops section is required, one op per line; blank lines and lines
// starting with '#' are skipped. A want section, "-- want NAME --" for
// each observable of check.Observables ("-- want --" is read as the
// routes), records the model's value after the last op, in the one
// grammar; `go test ./corpus -update` rewrites them.
package corpus

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/routefuzz/routefuzz/check"
	"github.com/routefuzz/routefuzz/model"
	"github.com/routefuzz/routefuzz/relations"
)

// Case is one regression case.
type Case struct {
	Path     string   // where it was read from, if anywhere
	Comment  string   // header commentary, without directives
	Adapters []string // explicit adapters, or nil for those the ops name
	Promote  bool     // IPv4 promote_secondaries
	// KeepAddrOnDown is IPv6 keep_addr_on_down.
	KeepAddrOnDown bool

	// The verdicts: the stacks expected to diverge from the model, to crash
	// or hang on the last op, and those on which the order diverged once
	// without reproducing. A stack in none of them must agree.
	Diverges, Crashes, Hangs, Flaky []string
	// Breaks lists "STACK:RELATION": the stack must break the relation
	// (a relation case; see the package doc).
	Breaks []string

	Ops     []model.Op // the order of operations
	OpLines []int      // the line of each op in Path, from 1
	// Want records, for each observable it names, the model's value
	// after the ops (`-- want routes --`, `-- want addresses --`), so
	// that a change of the model shows up in review. `-- want --` is read
	// as `-- want routes --`.
	Want []Want

	lines map[string]int // the line of each directive in Path
}

// An Expectation is what a case expects of one stack.
type Expectation uint8

const (
	ExpectAgree      Expectation = iota // agree with the model after every op
	ExpectDivergence                    // diverge (diverges:)
	ExpectCrash                         // crash on the last op (crashes:)
	ExpectHang                          // hang on the last op (hangs:)
	ExpectFlaky                         // anything: it diverged once, not since (flaky:)
	ExpectBreak                         // break a relation (breaks:)
)

// verdicts is the table of verdict directives, in the order Format writes
// them and FileName names them.
var verdicts = []struct {
	key    string      // the directive
	suffix string      // the file name's verdict
	expect Expectation // what it asks of the stacks it names
	failed string      // check.Divergence.Failed of a stack that holds to it
	stacks func(*Case) *[]string
}{
	{"diverges", "bad", ExpectDivergence, "", func(c *Case) *[]string { return &c.Diverges }},
	{"crashes", "crash", ExpectCrash, "crash", func(c *Case) *[]string { return &c.Crashes }},
	{"hangs", "hang", ExpectHang, "hang", func(c *Case) *[]string { return &c.Hangs }},
	{"flaky", "flaky", ExpectFlaky, "", func(c *Case) *[]string { return &c.Flaky }},
	{"breaks", "breaks", ExpectBreak, "", func(c *Case) *[]string { return &c.Breaks }},
}

// SplitBreak splits a breaks: entry, "legacy:reachability", into the stack
// and the relation; ok is false when it is not of that form.
func SplitBreak(entry string) (stack, relation string, ok bool) {
	stack, relation, ok = strings.Cut(entry, ":")
	return stack, relation, ok && stack != "" && relation != "" && !strings.Contains(relation, ":")
}

// stackOf returns the stack a verdict entry names: the entry, or the
// stack of a breaks: entry.
func stackOf(entry string) string {
	if s, _, ok := SplitBreak(entry); ok {
		return s
	}
	return entry
}

// IsRelation reports whether c is a relation case (breaks:).
func (c *Case) IsRelation() bool { return len(c.Breaks) > 0 }

// Relations returns the relations c's breaks: entries name, each once,
// in order.
func (c *Case) Relations() []string {
	var rs []string
	for _, b := range c.Breaks {
		if _, r, ok := SplitBreak(b); ok && !slices.Contains(rs, r) {
			rs = append(rs, r)
		}
	}
	return rs
}

// BrokenBy returns the relation c expects stack to break, or "".
func (c *Case) BrokenBy(stack string) string {
	for _, b := range c.Breaks {
		if s, r, ok := SplitBreak(b); ok && s == stack {
			return r
		}
	}
	return ""
}

// directives lists every directive key, in the order Format writes them.
var directives = []string{"adapters", "promote", "keep_addr_on_down", "diverges", "crashes", "hangs", "flaky", "breaks"}

// Config returns the model configuration the case runs with.
func (c *Case) Config() model.Config {
	ads := c.Adapters
	if ads == nil {
		ads = adaptersOf(c.Ops)
	}
	return model.Config{Adapters: ads, Promote: c.Promote, KeepAddrOnDown: c.KeepAddrOnDown}
}

// CheckStacks reports a verdict directive naming a stack not in known.
func (c *Case) CheckStacks(known []string) error {
	var errs []error
	for _, v := range verdicts {
		for _, n := range *v.stacks(c) {
			n = stackOf(n)
			if s, ref, ok := SplitPair(n); ok && slices.Contains(known, s) && slices.Contains(known, ref) {
				continue
			}
			if !slices.Contains(known, n) {
				errs = append(errs, fmt.Errorf("%s:%d: %s: unknown stack %q (have %s)", c.Path, c.lines[v.key], v.key, n, strings.Join(known, ", ")))
			}
		}
	}
	return errors.Join(errs...)
}

// Expect returns what c expects of stack.
func (c *Case) Expect(stack string) Expectation {
	for _, v := range verdicts {
		if slices.ContainsFunc(*v.stacks(c), func(n string) bool { return stackOf(n) == stack }) {
			return v.expect
		}
	}
	return ExpectAgree
}

// ExpectsDivergence reports whether stack is expected to diverge.
func (c *Case) ExpectsDivergence(stack string) bool { return c.Expect(stack) == ExpectDivergence }

// Named returns the stacks the verdict directives name, in the order of
// the directives.
func (c *Case) Named() []string {
	var ns []string
	for _, v := range verdicts {
		for _, n := range *v.stacks(c) {
			ns = append(ns, stackOf(n))
		}
	}
	return ns
}

func adaptersOf(ops []model.Op) []string {
	var ads []string
	for _, op := range ops {
		if !slices.Contains(ads, op.Adapter) {
			ads = append(ads, op.Adapter)
		}
	}
	return ads
}

// bom is the UTF-8 byte-order mark, which some editors put at the start of
// a file.
var bom = []byte("\ufeff")

// Parse reads a case. A malformed case gives an error listing every
// problem as "path:line: message", one per line.
func Parse(path string, data []byte) (*Case, error) {
	c := &Case{Path: path, lines: map[string]int{}}
	var errs []error
	bad := func(line int, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s:%d: %s", path, line, fmt.Sprintf(format, args...)))
	}
	// A byte-order mark says only that the file is UTF-8, which it must be
	// anyway; left in, it would hide the first line's directive.
	data = bytes.TrimPrefix(data, bom)
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	section := ""
	seen := map[string]int{}
	var comment []string
	var want *Want // the want section being read
	var wantLines []string
	var wantAt []int // the file line of each of wantLines
	endWant := func() {
		if want == nil {
			return
		}
		v, err := want.Of.Parse(wantLines)
		var le *check.LineError
		switch {
		case errors.As(err, &le):
			bad(wantAt[le.Line], "%v", le.Err)
		case err != nil:
			bad(wantAt[0], "%v", err)
		default:
			want.Value = v
			c.Want = append(c.Want, *want)
		}
		want, wantLines, wantAt = nil, nil, nil
	}
	for i, raw := range lines {
		n := i + 1
		raw = strings.TrimSuffix(raw, "\r")
		line := strings.TrimSpace(raw)
		if name, ok := sectionName(line); ok {
			endWant()
			if name == "want" {
				name = "want " + check.Routes.String()
			}
			if prev, dup := seen[name]; dup {
				bad(n, "section %q repeated (first at line %d)", name, prev)
			}
			seen[name] = n
			section = name
			if o, ok := wantSection(name); ok {
				want, section = &Want{Of: o}, "want"
			} else if name != "ops" {
				bad(n, "unknown section %q (want ops, or want followed by one of %s)", name, observableNames())
			}
			continue
		}
		switch section {
		case "":
			if line == "" || strings.HasPrefix(line, "#") {
				comment = append(comment, raw)
				continue
			}
			key, val, err := directive(line)
			if err != nil {
				bad(n, "%v", err)
				continue
			}
			if prev, dup := c.lines[key]; dup {
				bad(n, "%s: repeated (first at line %d)", key, prev)
				continue
			}
			c.lines[key] = n
			if err := c.setDirective(key, val); err != nil {
				bad(n, "%v", err)
			}
		case "ops":
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			op, err := model.ParseOp(line)
			if err == nil {
				// An op that breaks the alphabet's rules is refused by
				// every stack before it asks anything: a case of one
				// would test nothing. Whether its adapter exists is the
				// stack's to say, so "add x9 ..." stays a case.
				err = op.Validate()
			}
			if err != nil {
				bad(n, "%v", err)
				continue
			}
			c.Ops = append(c.Ops, op)
			c.OpLines = append(c.OpLines, n)
		case "want":
			if line == "" || strings.HasPrefix(line, "#") || want == nil {
				continue
			}
			wantLines, wantAt = append(wantLines, line), append(wantAt, n)
		}
	}
	endWant()
	// A stack has one verdict.
	first := map[string]string{}
	for _, v := range verdicts {
		for _, n := range *v.stacks(c) {
			n = stackOf(n)
			if k, dup := first[n]; dup {
				bad(c.lines[v.key], "%s: %s is already named by %s: (line %d); a stack has one verdict", v.key, n, k, c.lines[k])
				continue
			}
			first[n] = v.key
		}
	}
	if c.IsRelation() {
		for _, v := range verdicts {
			if names := *v.stacks(c); v.key != "breaks" && len(names) > 0 {
				bad(c.lines[v.key], "%s: a relation case (breaks:) is replayed judged by its relations only, not against the model: give it no other verdict", v.key)
			}
		}
		for _, b := range c.Breaks {
			if _, _, ok := SplitPair(stackOf(b)); ok {
				bad(c.lines["breaks"], "breaks: %s names a pair: a relation judges one stack", b)
			}
		}
	}
	if err := c.checkPairs(); err != nil {
		bad(c.firstVerdictLine(), "%v", err)
	}
	if _, ok := seen["ops"]; !ok {
		bad(len(lines), "no -- ops -- section")
	} else if len(c.Ops) == 0 && len(errs) == 0 {
		bad(seen["ops"], "the ops section is empty")
	}
	if err := c.Config().Validate(); err != nil && len(errs) == 0 {
		bad(1, "%v", err)
	}
	c.Comment = strings.TrimRight(strings.Join(comment, "\n"), "\n ")
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return c, nil
}

// A Want is one recorded want section: the model's value of one
// observable after a case's ops.
type Want struct {
	Of    check.Observable
	Value any
}

// wantSection returns the observable a section named "want NAME" records.
func wantSection(name string) (check.Observable, bool) {
	rest, ok := strings.CutPrefix(name, "want ")
	if !ok {
		return nil, false
	}
	for _, o := range check.Observables {
		if o.String() == rest {
			return o, true
		}
	}
	return nil, false
}

func observableNames() string {
	var names []string
	for _, o := range check.Observables {
		names = append(names, o.String())
	}
	return strings.Join(names, ", ")
}

func sectionName(line string) (string, bool) {
	if !strings.HasPrefix(line, "-- ") || !strings.HasSuffix(line, " --") || len(line) < 7 {
		return "", false
	}
	return strings.TrimSpace(line[3 : len(line)-3]), true
}

// directive splits a header line that is neither blank nor commentary into
// a known directive's key and value, or says why it is not a directive.
func directive(line string) (key, val string, err error) {
	key, val, ok := strings.Cut(line, ":")
	key = strings.TrimSpace(key)
	if ok && slices.Contains(directives, key) {
		return key, strings.TrimSpace(val), nil
	}
	want := "want " + strings.Join(directives[:len(directives)-1], ", ") + " or " + directives[len(directives)-1] + "; start commentary with #"
	word, _, _ := strings.Cut(key, " ")
	for _, d := range directives {
		if strings.EqualFold(word, d) {
			if !ok || word != key {
				return "", "", fmt.Errorf("%q is not a directive: write %q (%s)", line, d+": "+strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(line), word)), want)
			}
			return "", "", fmt.Errorf("unknown directive %q: directives are lower case, %q (%s)", key, d, want)
		}
	}
	if ok && key != "" && !strings.ContainsAny(key, " \t") {
		return "", "", fmt.Errorf("unknown directive %q (%s)", key, want)
	}
	return "", "", fmt.Errorf("%q is neither a directive nor commentary (%s)", line, want)
}

func (c *Case) setDirective(key, val string) error {
	switch key {
	case "adapters":
		c.Adapters = strings.Fields(val)
		if len(c.Adapters) == 0 {
			return errors.New("adapters: needs at least one name")
		}
		return model.Config{Adapters: c.Adapters}.Validate()
	case "promote":
		switch val {
		case "on":
			c.Promote = true
		case "off":
			c.Promote = false
		default:
			return fmt.Errorf("promote: want on or off, not %q", val)
		}
	case "keep_addr_on_down":
		switch val {
		case "on":
			c.KeepAddrOnDown = true
		case "off":
			c.KeepAddrOnDown = false
		default:
			return fmt.Errorf("keep_addr_on_down: want on or off, not %q", val)
		}
	}
	for _, v := range verdicts {
		if v.key != key {
			continue
		}
		names := strings.Fields(val)
		if len(names) == 0 {
			return fmt.Errorf("%s: needs at least one stack name", key)
		}
		for i, n := range names {
			if slices.Contains(names[:i], n) {
				return fmt.Errorf("%s: stack %q is named twice", key, n)
			}
		}
		if key == "breaks" {
			for _, n := range names {
				if _, r, ok := SplitBreak(n); !ok {
					return fmt.Errorf("breaks: want STACK:RELATION, not %q", n)
				} else if _, ok := relations.Lookup(r); !ok {
					return fmt.Errorf("breaks: unknown relation %q in %q (have %s)", r, n, strings.Join(relations.Names(), ", "))
				}
			}
		}
		*v.stacks(c) = names
	}
	return nil
}

// Format returns the case in its file form. Parse(Format(c)) gives back c
// (less Path and OpLines). A comment line that is neither blank nor
// commentary is written as commentary ("# " before it).
func (c *Case) Format() []byte {
	var b bytes.Buffer
	if c.Comment != "" {
		for _, l := range strings.Split(c.Comment, "\n") {
			if t := strings.TrimSpace(l); t != "" && !strings.HasPrefix(t, "#") {
				b.WriteString("# ")
			}
			b.WriteString(l)
			b.WriteByte('\n')
		}
	}
	if c.Adapters != nil {
		fmt.Fprintf(&b, "adapters: %s\n", strings.Join(c.Adapters, " "))
	}
	p := "off"
	if c.Promote {
		p = "on"
	}
	fmt.Fprintf(&b, "promote: %s\n", p)
	if c.KeepAddrOnDown {
		// Only when on, so that files written before the setting
		// existed stay as they are.
		b.WriteString("keep_addr_on_down: on\n")
	}
	for _, v := range verdicts {
		if names := *v.stacks(c); len(names) > 0 {
			fmt.Fprintf(&b, "%s: %s\n", v.key, strings.Join(names, " "))
		}
	}
	b.WriteString("-- ops --\n")
	for _, op := range c.Ops {
		b.WriteString(op.String())
		b.WriteByte('\n')
	}
	for _, w := range c.Want {
		b.WriteString("-- want " + w.Of.String() + " --\n")
		b.WriteString(w.Of.Format(w.Value))
	}
	return b.Bytes()
}

// Canonical returns ops with adapters renamed a0, a1, … in order of first
// use, and the correspondingly renamed adapter list (adapters no op uses
// are dropped; ops on adapters not in the list keep their names).
func Canonical(cfg model.Config, ops []model.Op) (model.Config, []model.Op) {
	rename := map[string]string{}
	var ads []string
	for _, op := range ops {
		if _, ok := rename[op.Adapter]; ok || !slices.Contains(cfg.Adapters, op.Adapter) {
			continue
		}
		n := fmt.Sprintf("a%d", len(ads))
		rename[op.Adapter] = n
		ads = append(ads, n)
	}
	out := make([]model.Op, len(ops))
	for i, op := range ops {
		if n, ok := rename[op.Adapter]; ok {
			op.Adapter = n
		}
		out[i] = op
	}
	if len(ads) == 0 {
		ads = []string{"a0"}
	}
	return model.Config{Adapters: ads, Promote: cfg.Promote, KeepAddrOnDown: cfg.KeepAddrOnDown}, out
}

// FileName returns a name derived from the case's content (its verdicts,
// configuration and ops), so that saving one case twice gives one file,
// ending in its verdict (see Verdict): "-ok.txtar" when every stack
// agrees, "-legacy-bad.txtar", "-exec-crash.txtar", "-exec-hang.txtar",
// "-linux-flaky.txtar".
func (c *Case) FileName() string {
	h := sha256.New()
	cfg := c.Config()
	fmt.Fprintf(h, "%s\n%s\n", cfg, strings.Join(c.Diverges, " "))
	for _, v := range verdicts[1:] {
		// Only when present, so that names of cases without these
		// verdicts stay what they were before the verdicts existed.
		if names := *v.stacks(c); len(names) > 0 {
			fmt.Fprintf(h, "%s: %s\n", v.key, strings.Join(names, " "))
		}
	}
	for _, op := range c.Ops {
		fmt.Fprintln(h, op)
	}
	return fmt.Sprintf("%x-%s.txtar", h.Sum(nil)[:6], c.Verdict())
}

// Verdict returns "ok" when every stack is expected to agree; else, for
// each verdict directive present, its stacks joined by "+" and its
// verdict (diverges: bad, crashes: crash, hangs: hang, flaky: flaky),
// joined by "-": "legacy-bad", "legacy+linux-bad", "exec-crash",
// "legacy-bad-exec-hang".
func (c *Case) Verdict() string {
	var parts []string
	for _, v := range verdicts {
		if names := *v.stacks(c); len(names) > 0 {
			parts = append(parts, strings.ReplaceAll(strings.Join(names, "+"), ":", "-")+"-"+v.suffix)
		}
	}
	if len(parts) == 0 {
		return "ok"
	}
	return strings.Join(parts, "-")
}

// CheckName reports a file name that does not carry the case's verdict. A
// case every stack must agree on is named *-ok.txtar. Any other case is
// named for the last of its verdicts (*-bad.txtar for diverges:,
// *-crash.txtar, *-hang.txtar, *-flaky.txtar), mentions every other
// verdict it has and every stack its verdicts name, and claims no verdict
// it does not have.
func (c *Case) CheckName() error {
	base := filepath.Base(c.Path)
	has := func(suffix string) bool {
		return strings.Contains(base, "-"+suffix+"-") || strings.HasSuffix(base, "-"+suffix+".txtar")
	}
	var last string
	for _, v := range verdicts {
		names := *v.stacks(c)
		if len(names) == 0 {
			if has(v.suffix) {
				return fmt.Errorf("%s: the name says %s, but the case has no %s: directive", c.Path, v.suffix, v.key)
			}
			continue
		}
		last = v.suffix
		if !has(v.suffix) {
			return fmt.Errorf("%s: the case says %s: %s, so its name must say -%s", c.Path, v.key, strings.Join(names, " "), v.suffix)
		}
		for _, n := range names {
			for _, part := range strings.Split(n, ":") {
				if !strings.Contains(base, part) {
					return fmt.Errorf("%s: the case says %s: %s, and its name does not mention %s", c.Path, v.key, strings.Join(names, " "), part)
				}
			}
		}
	}
	switch {
	case last == "" && !strings.HasSuffix(base, "-ok.txtar"):
		return fmt.Errorf("%s: every stack agrees on this case, so its name must end in -ok.txtar", c.Path)
	case last != "" && !strings.HasSuffix(base, "-"+last+".txtar"):
		return fmt.Errorf("%s: the case's verdict is %s, so its name must end in -%s.txtar", c.Path, c.Verdict(), last)
	}
	return nil
}

// Load reads every *.txtar file in dir, sorted by name. Errors from all
// files are reported together.
func Load(dir string) ([]*Case, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "*.txtar"))
	if err != nil {
		return nil, err
	}
	return LoadFiles(paths)
}

// LoadFiles reads the named files; a directory stands for its *.txtar
// files. Errors from all files are reported together.
func LoadFiles(paths []string) ([]*Case, error) {
	var cases []*Case
	var errs []error
	for _, p := range paths {
		if fi, err := os.Stat(p); err == nil && fi.IsDir() {
			cs, err := Load(p)
			cases = append(cases, cs...)
			if err != nil {
				errs = append(errs, err)
			}
			continue
		}
		data, err := os.ReadFile(p)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		c, err := Parse(p, data)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		cases = append(cases, c)
	}
	return cases, errors.Join(errs...)
}

// Save writes c into dir under its FileName, creating dir, and returns the
// path. The write is atomic (see WriteFile).
func Save(dir string, c *Case) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	path := filepath.Join(dir, c.FileName())
	if err := WriteFile(path, c.Format()); err != nil {
		return "", err
	}
	c.Path = path
	return path, nil
}

// WriteFile writes data to path with mode 0644, atomically: it writes a
// temporary file in the same directory, syncs it, and renames it to path.
// On any failure (a full disk) it removes the temporary file, so it never
// leaves an empty or partial file, and whatever path held before is left
// as it was. The error wraps the underlying one (errors.Is(err,
// syscall.ENOSPC)).
func WriteFile(path string, data []byte) (err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	tmp, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
			err = fmt.Errorf("writing %s: %w", path, err)
		}
	}()
	if _, err := tmp.Write(data); err != nil {
		return err
	}
	if err := tmp.Chmod(0o644); err != nil {
		return err
	}
	if err := tmp.Sync(); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
