package corpus

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/routefuzz/routefuzz/check"
	"github.com/routefuzz/routefuzz/model"
	"github.com/routefuzz/routefuzz/sut"
)

// ErrSkip is wrapped by Verify's error when a stack cannot run a case (a
// family, metric or promotion setting it does not support).
var ErrSkip = errors.New("skipped")

// ErrHarness is wrapped by Verify's error when the stack failed outside
// its semantics (I/O, a dead or hung program): never a divergence.
var ErrHarness = errors.New("harness failure")

// ConfigFor returns the configuration stack runs c with, or why it cannot
// run c. A stack with a single promotion setting runs a case written for
// the other one when the setting cannot matter to it: the model gives the
// same results, routes and addresses after every op either way.
func ConfigFor(c *Case, stack sut.Stack) (model.Config, string) {
	cfg := c.Config()
	l := sut.LimitsOf(stack)
	for _, op := range c.Ops {
		switch {
		case op.Prefix.Addr().Is4() && !l.IPv4:
			return cfg, "IPv4 not supported"
		case op.Prefix.Addr().Is6() && !l.IPv6:
			return cfg, "IPv6 not supported"
		case op.Metric != 0 && !l.Metrics:
			return cfg, "metrics not supported"
		}
	}
	if len(l.Promote) > 0 && !slices.Contains(l.Promote, c.Promote) {
		if promoteMatters(c) {
			return cfg, fmt.Sprintf("the case needs promote=%v, which the stack does not support", c.Promote)
		}
		cfg.Promote = l.Promote[0]
	}
	return cfg, ""
}

// promoteMatters reports whether the model tells the two promotion
// settings apart anywhere in c.
func promoteMatters(c *Case) bool {
	cfg := c.Config()
	cfg.Promote = false
	off, err1 := model.New(cfg)
	cfg.Promote = true
	on, err2 := model.New(cfg)
	if err1 != nil || err2 != nil {
		return true
	}
	for _, op := range c.Ops {
		r1, _ := model.ResultOf(off.Apply(op))
		r2, _ := model.ResultOf(on.Apply(op))
		if r1 != r2 || !off.Routes().Equal(on.Routes()) || !slices.Equal(off.Addrs(), on.Addrs()) {
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
func Replay(c *Case, name string, stack sut.Stack, stats *check.Stats) (*check.Divergence, error) {
	cfg, _ := ConfigFor(c, stack)
	return check.Replay(name, stack, cfg, c.Ops, stats)
}

// Verify replays c on stack and holds it to its expectation: a stack named
// in the diverges directive must diverge (so the harness still catches the
// bug), every other stack must agree. The error says why and where, with
// the divergence report and the file:line of the op where it first
// appeared. A case the stack cannot run gives an error wrapping ErrSkip.
func Verify(c *Case, name string, stack sut.Stack, stats *check.Stats) error {
	if why := Unsupported(c, stack); why != "" {
		return fmt.Errorf("%s on %s: %w: %s", c.Path, name, ErrSkip, why)
	}
	d, err := Replay(c, name, stack, stats)
	if err != nil {
		return fmt.Errorf("%s: %w: %w", c.Path, ErrHarness, err)
	}
	switch {
	case d != nil && !c.ExpectsDivergence(name):
		return fmt.Errorf("%s: %s diverges from the model\n%s", c.Where(len(d.Ops)), name, d.Report())
	case d == nil && c.ExpectsDivergence(name):
		return fmt.Errorf("%s: %s was expected to diverge (diverges: %s) but agrees with the model: the harness no longer catches this case", c.Path, name, strings.Join(c.Diverges, " "))
	}
	return nil
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

// ModelTable returns the model's route table after c's ops.
func ModelTable(c *Case) (model.Table, error) {
	m, err := model.New(c.Config())
	if err != nil {
		return nil, fmt.Errorf("%s: %w", c.Path, err)
	}
	for _, op := range c.Ops {
		m.Apply(op)
	}
	return m.Routes(), nil
}

// CheckWant compares c's want section, if any, with the model's table.
func CheckWant(c *Case) error {
	if c.Want == nil {
		return nil
	}
	got, err := ModelTable(c)
	if err != nil {
		return err
	}
	if !got.Equal(*c.Want) {
		return fmt.Errorf("%s: the want section differs from the model's table (run go test ./corpus -update to rewrite it, and review the diff)\n%s",
			c.Path, check.SideBySide("want section", "model", *c.Want, got))
	}
	return nil
}

// FromDivergence returns the case of a divergence: adapters renamed a0,
// a1, … in order of first use, the stack expected to diverge, the model's
// final table, and a header of comment plus a sentence on what differs.
func FromDivergence(d *check.Divergence, comment string) *Case {
	cfg, ops := Canonical(d.Config, d.Ops)
	c := &Case{
		Comment:  comment + "\n# " + describe(d),
		Adapters: cfg.Adapters,
		Promote:  cfg.Promote,
		Diverges: []string{d.SUT},
		Ops:      ops,
	}
	if t, err := ModelTable(c); err == nil {
		c.Want = &t
	}
	return c
}

func describe(d *check.Divergence) string {
	var parts []string
	if d.WantResult != d.GotResult {
		parts = append(parts, fmt.Sprintf("the last op gives %s where the model gives %s", d.GotResult, d.WantResult))
	}
	if diff := check.Diff(d.WantRoutes, d.GotRoutes); diff.Missing > 0 || diff.Extra > 0 {
		parts = append(parts, fmt.Sprintf("%d route(s) missing and %d extra after the last op", diff.Missing, diff.Extra))
	}
	if !slices.Equal(d.WantAddrs, d.GotAddrs) {
		parts = append(parts, "the addresses differ")
	}
	return d.SUT + ": " + strings.Join(parts, "; ") + "."
}
