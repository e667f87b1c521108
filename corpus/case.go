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
//	-- want --
//	10.0.0.0/24 dev a0 src 10.0.0.1
//	...
//
// Header lines of the form "key: value" with a known key are directives;
// every other header line is commentary. The directives, all optional:
//
//	adapters: NAME...   the adapters, in order (default: those the ops name, in order of first use)
//	promote: on|off     IPv4 promote_secondaries (default: off, the kernel's default)
//	diverges: STACK...  stacks expected to diverge from the model (default: none)
//
// The ops section is required, one op per line; blank lines and lines
// starting with '#' are skipped. The want section, if present, is the
// model's route table after the last op; `go test ./corpus -update`
// rewrites it.
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

	"github.com/routefuzz/routefuzz/model"
)

// Case is one regression case.
type Case struct {
	Path     string   // where it was read from, if anywhere
	Comment  string   // header commentary, without directives
	Adapters []string // explicit adapters, or nil for those the ops name
	Promote  bool     // IPv4 promote_secondaries
	Diverges []string // stacks expected to diverge
	// DivergesLine is the line of the diverges directive, 0 if none.
	DivergesLine int
	Ops          []model.Op   // the order of operations
	OpLines      []int        // the line of each op in Path, from 1
	Want         *model.Table // the model's final table, if recorded
}

// Config returns the model configuration the case runs with.
func (c *Case) Config() model.Config {
	ads := c.Adapters
	if ads == nil {
		ads = adaptersOf(c.Ops)
	}
	return model.Config{Adapters: ads, Promote: c.Promote}
}

// CheckStacks reports a diverges directive naming a stack not in known.
func (c *Case) CheckStacks(known []string) error {
	for _, n := range c.Diverges {
		if !slices.Contains(known, n) {
			return fmt.Errorf("%s:%d: diverges: unknown stack %q (have %s)", c.Path, c.DivergesLine, n, strings.Join(known, ", "))
		}
	}
	return nil
}

// ExpectsDivergence reports whether stack is expected to diverge.
func (c *Case) ExpectsDivergence(stack string) bool { return slices.Contains(c.Diverges, stack) }

func adaptersOf(ops []model.Op) []string {
	var ads []string
	for _, op := range ops {
		if !slices.Contains(ads, op.Adapter) {
			ads = append(ads, op.Adapter)
		}
	}
	return ads
}

// Parse reads a case. A malformed case gives an error listing every
// problem as "path:line: message", one per line.
func Parse(path string, data []byte) (*Case, error) {
	c := &Case{Path: path}
	var errs []error
	bad := func(line int, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s:%d: %s", path, line, fmt.Sprintf(format, args...)))
	}
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	section := ""
	seen := map[string]int{}
	var comment []string
	var want []model.Route
	for i, raw := range lines {
		n := i + 1
		line := strings.TrimSpace(strings.TrimSuffix(raw, "\r"))
		if name, ok := sectionName(line); ok {
			if prev, dup := seen[name]; dup {
				bad(n, "section %q repeated (first at line %d)", name, prev)
			}
			if name != "ops" && name != "want" {
				bad(n, "unknown section %q (want ops or want)", name)
			}
			seen[name] = n
			section = name
			continue
		}
		switch section {
		case "":
			if key, val, ok := directive(line); ok {
				if err := c.setDirective(key, val); err != nil {
					bad(n, "%v", err)
				}
				if key == "diverges" {
					c.DivergesLine = n
				}
				continue
			}
			if key, ok := unknownDirective(line); ok {
				bad(n, "unknown directive %q (want adapters, promote or diverges; start commentary with #)", key)
				continue
			}
			comment = append(comment, raw)
		case "ops":
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			op, err := model.ParseOp(line)
			if err != nil {
				bad(n, "%v", err)
				continue
			}
			c.Ops = append(c.Ops, op)
			c.OpLines = append(c.OpLines, n)
		case "want":
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			r, err := model.ParseRoute(line)
			if err != nil {
				bad(n, "%v", err)
				continue
			}
			want = append(want, r)
		}
	}
	if _, ok := seen["ops"]; !ok {
		bad(len(lines), "no -- ops -- section")
	} else if len(c.Ops) == 0 && len(errs) == 0 {
		bad(seen["ops"], "the ops section is empty")
	}
	if _, ok := seen["want"]; ok {
		t := model.NewTable(want)
		c.Want = &t
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

func sectionName(line string) (string, bool) {
	if !strings.HasPrefix(line, "-- ") || !strings.HasSuffix(line, " --") || len(line) < 7 {
		return "", false
	}
	return strings.TrimSpace(line[3 : len(line)-3]), true
}

func directive(line string) (key, val string, ok bool) {
	key, val, ok = strings.Cut(line, ":")
	if !ok {
		return "", "", false
	}
	switch key = strings.TrimSpace(key); key {
	case "adapters", "promote", "diverges":
		return key, strings.TrimSpace(val), true
	}
	return "", "", false
}

// unknownDirective reports whether an uncommented header line looks like
// a directive (a lower-case word, a colon) without being one: a misspelt directive
// must not silently become commentary.
func unknownDirective(line string) (string, bool) {
	if strings.HasPrefix(line, "#") {
		return "", false
	}
	key, _, ok := strings.Cut(line, ":")
	if !ok || key == "" {
		return "", false
	}
	for _, r := range key {
		if r < 'a' || r > 'z' {
			return "", false
		}
	}
	return key, true
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
	case "diverges":
		c.Diverges = strings.Fields(val)
	}
	return nil
}

// Format returns the case in its file form. Parse(Format(c)) gives back c
// (less Path and OpLines).
func (c *Case) Format() []byte {
	var b bytes.Buffer
	if c.Comment != "" {
		for _, l := range strings.Split(c.Comment, "\n") {
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
	if len(c.Diverges) > 0 {
		fmt.Fprintf(&b, "diverges: %s\n", strings.Join(c.Diverges, " "))
	}
	b.WriteString("-- ops --\n")
	for _, op := range c.Ops {
		b.WriteString(op.String())
		b.WriteByte('\n')
	}
	if c.Want != nil {
		b.WriteString("-- want --\n")
		b.WriteString(c.Want.String())
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
	return model.Config{Adapters: ads, Promote: cfg.Promote}, out
}

// FileName returns a name derived from the case's content (its stacks,
// configuration and ops), so that saving one case twice gives one file,
// ending in its verdict: "-ok.txtar" when every stack agrees, else
// "-STACK[+STACK]-bad.txtar".
func (c *Case) FileName() string {
	h := sha256.New()
	cfg := c.Config()
	fmt.Fprintf(h, "%s\n%s\n", cfg, strings.Join(c.Diverges, " "))
	for _, op := range c.Ops {
		fmt.Fprintln(h, op)
	}
	return fmt.Sprintf("%x-%s.txtar", h.Sum(nil)[:6], c.Verdict())
}

// Verdict returns "ok" when every stack is expected to agree, else the
// diverging stacks joined by "+" and "-bad", e.g. "legacy-bad".
func (c *Case) Verdict() string {
	if len(c.Diverges) == 0 {
		return "ok"
	}
	return strings.Join(c.Diverges, "+") + "-bad"
}

// CheckName reports a file name that does not carry the case's verdict:
// a case expected to diverge is named *-bad.txtar and names each stack it
// diverges on; any other case is named *-ok.txtar.
func (c *Case) CheckName() error {
	base := filepath.Base(c.Path)
	if len(c.Diverges) == 0 {
		if !strings.HasSuffix(base, "-ok.txtar") {
			return fmt.Errorf("%s: every stack agrees on this case, so its name must end in -ok.txtar", c.Path)
		}
		return nil
	}
	if !strings.HasSuffix(base, "-bad.txtar") {
		return fmt.Errorf("%s: the case diverges on %s, so its name must end in -bad.txtar", c.Path, strings.Join(c.Diverges, " "))
	}
	for _, n := range c.Diverges {
		if !strings.Contains(base, n) {
			return fmt.Errorf("%s: the case diverges on %s, which its name does not mention", c.Path, n)
		}
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
// path. The write is atomic: a reader never sees half a case.
func Save(dir string, c *Case) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	path := filepath.Join(dir, c.FileName())
	tmp, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return "", err
	}
	_, werr := tmp.Write(c.Format())
	cerr := tmp.Close()
	if err := errors.Join(werr, cerr); err != nil {
		os.Remove(tmp.Name())
		return "", err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		os.Remove(tmp.Name())
		return "", err
	}
	c.Path = path
	return path, nil
}
