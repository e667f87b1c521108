package corpus

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/routefuzz/routefuzz/check"
	"github.com/routefuzz/routefuzz/model"
	"github.com/routefuzz/routefuzz/relations"
	"github.com/routefuzz/routefuzz/sut"
)

// ErrSkip is wrapped by Verify's error when a stack cannot run a case (a
// family, metric or promotion setting it does not support).
var ErrSkip = errors.New("skipped")

// ErrFlaky is wrapped by Verify's error for a case marked flaky on the
// stack: the error says how the replay went (it failed again, or agreed).
// It is a report, not a failure.
var ErrFlaky = errors.New("flaky")

// ErrHarness is wrapped by Verify's error when the stack failed outside
// its semantics (I/O, a dead or hung program): never a divergence.
var ErrHarness = errors.New("harness failure")

// ConfigFor returns the configuration stack runs c with, or why it cannot
// run c (an op it does not take: sut.Limits.Unsupported; more addresses
// on an adapter than it holds: sut.Limits.Exceeds). A stack with a single promotion setting runs a case written for
// the other one when the setting cannot matter to it: the model gives the
// same results and observables (check.SameModel) after every op either way.
func ConfigFor(c *Case, stack sut.Stack) (model.Config, string) {
	cfg := c.Config()
	l := sut.LimitsOf(stack)
	st, _ := model.New(cfg)
	for _, op := range c.Ops {
		if why := l.Unsupported(op); why != "" {
			return cfg, why
		}
		if st != nil {
			if why := l.Exceeds(st, op); why != "" {
				return cfg, why
			}
			st.Apply(op)
		}
	}
	if len(l.Promote) > 0 && !slices.Contains(l.Promote, c.Promote) {
		if promoteMatters(c) {
			return cfg, fmt.Sprintf("the case needs promote %s, which the stack does not support", map[bool]string{false: "off", true: "on"}[c.Promote])
		}
		cfg.Promote = l.Promote[0]
	}
	if len(l.KeepAddrOnDown) > 0 && !slices.Contains(l.KeepAddrOnDown, c.KeepAddrOnDown) {
		if settingMatters(c, func(cfg *model.Config, on bool) { cfg.KeepAddrOnDown = on }) {
			return cfg, fmt.Sprintf("the case needs keep_addr_on_down %s, which the stack does not support", map[bool]string{false: "off", true: "on"}[c.KeepAddrOnDown])
		}
		cfg.KeepAddrOnDown = l.KeepAddrOnDown[0]
	}
	return cfg, ""
}

// promoteMatters reports whether the model tells the two promotion
// settings apart anywhere in c.
func promoteMatters(c *Case) bool {
	return settingMatters(c, func(cfg *model.Config, on bool) { cfg.Promote = on })
}

// settingMatters reports whether the model tells apart anywhere in c the
// two values of the setting that set sets.
func settingMatters(c *Case, set func(*model.Config, bool)) bool {
	cfg := c.Config()
	set(&cfg, false)
	off, err1 := model.New(cfg)
	set(&cfg, true)
	on, err2 := model.New(cfg)
	if err1 != nil || err2 != nil {
		return true
	}
	for _, op := range c.Ops {
		r1, _ := model.ResultOf(off.Apply(op))
		r2, _ := model.ResultOf(on.Apply(op))
		if r1 != r2 || !check.SameModel(off, on) {
			return true
		}
	}
	return false
}

// Unsupported returns why stack cannot run c, or "" when it can.
func Unsupported(c *Case, stack sut.Stack) string {
	_, why := ConfigFor(c, stack)
	return why
}

// Replay applies c's ops to stack and the model, checking after every op
// exactly what the state machine checks. It returns the first divergence,
// or an error when the stack failed outside its semantics.
//
// For a pair, name is "STACK-vs-REF" and stack its *check.Pair.
//
// A relation case (breaks:) is replayed judged by relations, with no
// model compared: the relation it expects name to break, or every
// relation it names when it names none for name (RelationsFor).
func Replay(c *Case, name string, stack sut.Stack, stats *check.Stats) (*check.Divergence, error) {
	cfg, _ := ConfigFor(c, stack)
	if s, _, ok := SplitPair(name); ok {
		name = s
	}
	if c.IsRelation() {
		o := &relations.Oracle{Relations: RelationsFor(c, name)}
		stack = o.Judged(stack, false)
	}
	return check.Replay(name, stack, cfg, c.Ops, stats)
}

// RelationsFor returns the relations a relation case judges stack by:
// the one it expects stack to break, else every relation it names.
func RelationsFor(c *Case, stack string) []*relations.Relation {
	names := c.Relations()
	if r := c.BrokenBy(stack); r != "" {
		names = []string{r}
	}
	var rs []*relations.Relation
	for _, n := range names {
		if r, ok := relations.Lookup(n); ok {
			rs = append(rs, r)
		}
	}
	return rs
}

// Verify replays c on stack and holds it to its expectation (see Expect):
// a stack named by diverges: must diverge, by crashes: crash on the last
// op, by hangs: hang on it, so the harness still catches the bug; every
// stack no verdict names must agree. The error says why and where, with
// the divergence report and the file:line of the op where it first
// appeared.
//
// A case the stack cannot run (a family, metric or promotion setting it
// does not support, or a configuration its Reset refuses with
// sut.ErrUnsupported, such as an adapter named lo on the kernel) gives an
// error wrapping ErrSkip that says why. A case marked flaky on the stack
// gives an error wrapping ErrFlaky that says how the replay went. A stack
// that failed outside its semantics gives an error wrapping ErrHarness.
//
// A pair case (see SplitPair) is verified only on the pairs it names:
// name "STACK-vs-REF" and stack their *check.Pair. Verified on a single
// stack it is skipped, and so is a case against the model on a pair.
func Verify(c *Case, name string, stack sut.Stack, stats *check.Stats) error {
	if why := pairSkip(c, name); why != "" {
		return fmt.Errorf("%s on %s: %w: %s", c.Path, name, ErrSkip, why)
	}
	if why := Unsupported(c, stack); why != "" {
		return fmt.Errorf("%s on %s: %w: %s", c.Path, name, ErrSkip, why)
	}
	d, err := Replay(c, name, stack, stats)
	switch {
	case errors.Is(err, sut.ErrUnsupported):
		return fmt.Errorf("%s on %s: %w: %v", c.Path, name, ErrSkip, err)
	case err != nil:
		return fmt.Errorf("%s: %w: %w", c.Path, ErrHarness, err)
	}
	return c.Judge(name, d)
}

// Judge holds the outcome of replaying c on stack name (d, nil when it
// agreed with the model) to c's expectation, as Verify does.
func (c *Case) Judge(name string, d *check.Divergence) error {
	want := c.Expect(name)
	got := ExpectAgree
	if d != nil {
		got = outcomeOf(d)
	}
	switch {
	case want == ExpectFlaky:
		how := "agreed with " + reference(name) + " this time"
		if d != nil {
			how = fmt.Sprintf("%s again, at %s", didWhat(d), c.Where(len(d.Ops)))
		}
		return fmt.Errorf("%s on %s: %w: %s", c.Path, name, ErrFlaky, how)
	case want == ExpectBreak && got == ExpectBreak && d.Relation != c.BrokenBy(name):
		return fmt.Errorf("%s: %s was expected to break relation %s (%s) but broke %s\n%s", c.Where(len(d.Ops)), name, c.BrokenBy(name), c.verdictLine(name), d.Relation, d.Report())
	case want == got:
		return nil
	case want == ExpectAgree:
		return fmt.Errorf("%s: %s %s\n%s", c.Where(len(d.Ops)), name, didWhat(d), d.Report())
	case d == nil && want == ExpectBreak:
		return fmt.Errorf("%s: %s was expected to break relation %s (%s) but holds it: the harness no longer catches this case", c.Path, name, c.BrokenBy(name), c.verdictLine(name))
	case d == nil:
		return fmt.Errorf("%s: %s was expected to %s (%s) but agrees with %s: the harness no longer catches this case", c.Path, name, expectedTo(want), c.verdictLine(name), reference(name))
	default:
		return fmt.Errorf("%s: %s was expected to %s (%s) but %s\n%s", c.Where(len(d.Ops)), name, expectedTo(want), c.verdictLine(name), didWhat(d), d.Report())
	}
}

// outcomeOf returns the verdict that d fulfils.
func outcomeOf(d *check.Divergence) Expectation {
	if d.Relation != "" && d.Failed == "" {
		return ExpectBreak
	}
	for _, v := range verdicts {
		if v.expect != ExpectFlaky && v.failed == d.Failed {
			return v.expect
		}
	}
	return ExpectDivergence
}

// didWhat says what the stack did: "diverges from the model in routes",
// "crashed on op 3", "hung on op 3".
func didWhat(d *check.Divergence) string {
	switch d.Failed {
	case "crash":
		return fmt.Sprintf("crashed on op %d", len(d.Ops))
	case "hang":
		return fmt.Sprintf("hung on op %d", len(d.Ops))
	}
	if d.Relation != "" {
		return "breaks relation " + d.Relation
	}
	return fmt.Sprintf("diverges from %s in %s", d.Reference(), d.Aspects())
}

func expectedTo(e Expectation) string {
	switch e {
	case ExpectCrash:
		return "crash"
	case ExpectHang:
		return "hang"
	case ExpectBreak:
		return "break a relation"
	}
	return "diverge"
}

// verdictLine returns the directive that names stack, as written.
func (c *Case) verdictLine(stack string) string {
	for _, v := range verdicts {
		if names := *v.stacks(c); slices.ContainsFunc(names, func(n string) bool { return stackOf(n) == stack }) {
			return v.key + ": " + strings.Join(names, " ")
		}
	}
	return ""
}

// Where returns "path:line" of op n (counting from 1), or the path alone.
func (c *Case) Where(n int) string {
	if n >= 1 && n <= len(c.OpLines) {
		return fmt.Sprintf("%s:%d", c.Path, c.OpLines[n-1])
	}
	if n == 0 {
		return c.Path + ": before the first op"
	}
	return c.Path
}

// ModelWant returns the model's value of every observable after c's ops,
// as want sections record them.
func ModelWant(c *Case) ([]Want, error) {
	m, err := model.New(c.Config())
	if err != nil {
		return nil, fmt.Errorf("%s: %w", c.Path, err)
	}
	for _, op := range c.Ops {
		m.Apply(op)
	}
	want := make([]Want, len(check.Observables))
	for i, o := range check.Observables {
		want[i] = Want{Of: o, Value: o.ModelValue(m)}
	}
	return want, nil
}

// CheckWant compares c's want sections, if any, with the model's values.
func CheckWant(c *Case) error {
	if len(c.Want) == 0 {
		return nil
	}
	model, err := ModelWant(c)
	if err != nil {
		return err
	}
	var errs []error
	for _, w := range c.Want {
		for _, m := range model {
			if m.Of == w.Of && !w.Of.EqualValues(w.Value, m.Value) {
				errs = append(errs, fmt.Errorf("%s: the want %s section differs from the model's (run go test ./corpus -update to rewrite it, and review the diff)\n%s",
					c.Path, w.Of, w.Of.TextValues("want section", "model", w.Value, m.Value)))
			}
		}
	}
	return errors.Join(errs...)
}

// FromDivergence returns the case of a divergence: its order as it ran
// (the order its report shows), the stack's verdict (diverges:, or
// crashes: or hangs: when d.Failed says it crashed or hung), the model's
// final table, and a header of comment plus a sentence on what differs.
func FromDivergence(d *check.Divergence, comment string) *Case {
	c := fromDivergence(d, comment, describe(d))
	switch d.Failed {
	case "":
		if d.Relation != "" {
			c.Breaks = []string{d.SUT + ":" + d.Relation}
			break
		}
		c.Diverges = []string{verdictName(d)}
	case "crash":
		c.Crashes = []string{verdictName(d)}
	case "hang":
		c.Hangs = []string{verdictName(d)}
	default:
		c.Diverges = []string{verdictName(d)}
	}
	return c
}

// FromFlaky returns the case of a divergence that did not reproduce when
// its order was replayed: as FromDivergence, but with the verdict flaky:
// (never diverges:, crashes: or hangs:), so that it cannot pass for a
// regression case. comment should say how it was replayed.
func FromFlaky(d *check.Divergence, comment string) *Case {
	c := fromDivergence(d, comment, fmt.Sprintf("Flaky: %s failed on this order once, but not when it was replayed. When it failed:\n%s", d.SUT, describe(d)))
	c.Flaky = []string{verdictName(d)}
	return c
}

func fromDivergence(d *check.Divergence, comment, what string) *Case {
	// The order as it ran, not renamed (Canonical): the case is the order
	// the report shows, and its header's words about it hold. Delta
	// debugging already ends on canonical names (Minimize).
	cfg, ops := d.Config, d.Ops
	c := &Case{
		Comment:        strings.TrimPrefix(comment+"\n"+commentLines(what), "\n"),
		Adapters:       cfg.Adapters,
		Promote:        cfg.Promote,
		Ops:            ops,
		KeepAddrOnDown: cfg.KeepAddrOnDown,
	}
	if w, err := ModelWant(c); err == nil {
		c.Want = w
	}
	return c
}

// describe says in a sentence what differs, or what the stack said when it
// crashed or hung (the first lines of it).
func describe(d *check.Divergence) string {
	if d.Relation != "" && d.Failed == "" {
		return fmt.Sprintf("%s breaks relation %s after op %d (%s): %s.", d.SUT, d.Relation, len(d.Ops), d.RelationDoc, strings.TrimRight(d.Detail, "\n."))
	}
	var parts []string
	who := d.SUT
	if d.Ref != "" {
		who = fmt.Sprintf("%s (compared with %s)", d.SUT, d.Ref)
	}
	switch d.Failed {
	case "crash", "hang":
		verb := "crashed"
		if d.Failed == "hang" {
			verb = "hung"
		}
		if d.FailedBy != "" {
			who = fmt.Sprintf("%s (the reference %s was compared with)", d.FailedBy, d.SUT)
		}
		s := fmt.Sprintf("%s: %s after a reset, before the first op.", who, verb)
		if len(d.Ops) > 0 {
			s = fmt.Sprintf("%s: %s on the last op (%s).", who, verb, d.Ops[len(d.Ops)-1])
		}
		if msg := strings.TrimSpace(d.GotMsg); msg != "" {
			lines := strings.Split(msg, "\n")
			if len(lines) > maxMsgLines {
				lines = append(lines[:maxMsgLines], "…")
			}
			s += " It said:\n  " + strings.Join(lines, "\n  ")
		}
		return s
	}
	if d.WantResult != d.GotResult {
		parts = append(parts, fmt.Sprintf("the last op gives %s where %s gives %s", d.GotResult, d.Reference(), d.WantResult))
	}
	parts = append(parts, d.Differences()...)
	return who + ": " + strings.Join(parts, "; ") + "."
}

// maxMsgLines bounds the lines of a stack's message kept in a case header.
const maxMsgLines = 10

// commentLines returns s as header commentary: each line after "# ", with
// control characters and invalid UTF-8 quoted, so that a program's raw
// output cannot break the file or a terminal.
func commentLines(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		if !utf8.ValidString(l) || strings.ContainsFunc(l, func(r rune) bool { return unicode.IsControl(r) || r == '\ufeff' }) {
			l = strconv.QuoteToGraphic(l)
		}
		lines[i] = strings.TrimRight("# "+l, " ")
	}
	return strings.Join(lines, "\n")
}
