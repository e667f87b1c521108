// Package relations checks stacks that nobody has modelled: relations
// that every correct stack satisfies, over one run or two, with no model
// as the oracle. Undo (an add and the del of the same address, a link
// going down and up, carrier lost and back, leave every observable as it
// was), history independence (two orders that reach the same final
// configuration give the same addresses and lookups, but for what the
// stack declares order-dependent) and reachability (a neighbour in an
// up adapter's subnet is reached through an adapter holding the subnet,
// from a source in it: KB287032's symptom, checked directly).
//
// An Oracle judges a run of check (check.Judged) after every op; a
// relation that fails is a *check.Divergence whose Relation names it,
// which rapid and delta debugging shrink like any divergence. The
// observables are read and compared through check's registry
// (check.Observables, check.Read); this package adds no observable.
//
// The model still runs beside the stack, as for -vs: the generator draws
// from it, exclusions look at it, and it supplies the probes of lookups
// and the bookkeeping of what the ops did (which adapters are down or
// unplugged, which user routes were asked for). It is never compared.
package relations

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/routefuzz/routefuzz/check"
	"github.com/routefuzz/routefuzz/model"
	"github.com/routefuzz/routefuzz/sut"
)

// A Relation is one property every correct stack satisfies.
type Relation struct {
	// Name names it in reports and on the command line: "undo".
	Name string
	// Doc says in a sentence what it holds.
	Doc string
	// Applies reports whether it can be checked on a stack with limits
	// l (the op kinds it needs, the observables it compares).
	Applies func(s sut.Stack, l sut.Limits) bool
	// Check checks it after the last op of the run c judges: nil when it
	// holds or does not apply to this state.
	Check func(c *Context) (*Failure, error)
}

// A Failure is a relation that did not hold: its two runs, each from a
// fresh reset, and the values of the observables it compared (Want the
// first run's, Got the second's; Off for those it does not compare).
type Failure struct {
	Sides    [2]check.Side
	Observed []check.Observed
	Detail   string
}

// All lists every relation, in the order they are checked.
var All = []*Relation{Reachability, HistoryIndependence, Undo}

// Lookup returns the relation named name.
func Lookup(name string) (*Relation, bool) {
	i := slices.IndexFunc(All, func(r *Relation) bool { return r.Name == name })
	if i < 0 {
		return nil, false
	}
	return All[i], true
}

// Names lists the relations' names.
func Names() []string {
	var ns []string
	for _, r := range All {
		ns = append(ns, r.Name)
	}
	return ns
}

// Oracle judges runs by relations (check.Oracle). Its zero value checks
// every relation of All, running second runs on the stack itself.
type Oracle struct {
	// Relations are the relations checked; All if empty.
	Relations []*Relation
	// Twin is a second stack of the same kind, for the second runs of
	// relations (history independence, undo), so that the run judged
	// goes on undisturbed. nil: the stack itself, which is then reset and
	// replayed back to where the run was (one more replay per op).
	Twin sut.Stack
	// Exclude, if not nil, is the hunt's exclusion (props.Config.Exclude):
	// a second run that has an op it would skip is not run.
	Exclude func(st *model.State, op model.Op) bool
	// Free lists what the stack declares order-dependent; nil:
	// DeclaredBy(the stack).
	Free []Freedom
	// MaxUndo bounds the undo pairs tried after each op; DefaultMaxUndo
	// if 0.
	MaxUndo int
	// Counts counts the oracle's work.
	Counts Counts
}

// Counts is an Oracle's work: what it costs beyond the run it judges.
type Counts struct {
	Judged     int // states judged (the reset and every op of every run)
	SecondRuns int // second runs, each from a fresh reset
	SecondOps  int // ops applied in them
}

// DefaultMaxUndo is how many undo pairs an Oracle tries after each op.
const DefaultMaxUndo = 6

// Judged returns stack judged by o (and compared with the model too when
// withModel): what check.Start, and so every hunt, runs.
//
// Without the model, a stack that reports the model's answers where they
// are its profile's (Profiled: sut/gvisor) is judged by its own answers,
// and so is the twin: the relations need no model, and the model's
// answers would hide what the stack does.
func (o *Oracle) Judged(stack sut.Stack, withModel bool) *check.Judged {
	if !withModel {
		stack = Own(stack)
		if o.Twin != nil {
			o.Twin = Own(o.Twin)
		}
	}
	return &check.Judged{Stack: stack, Oracle: o, Model: withModel}
}

// Profiled is implemented by a stack that reports the model's answers
// where they are its profile's (sut/gvisor's Profiled): Own returns the
// stack that answers for itself.
type Profiled interface {
	Own() sut.Stack
}

// Own returns s's own stack when s is Profiled, else s.
func Own(s sut.Stack) sut.Stack {
	if p, ok := s.(Profiled); ok {
		return p.Own()
	}
	return s
}

// Judge implements check.Oracle: it checks every relation that applies
// to the stack after the run's last op, and returns the first that fails
// as a divergence. A stack whose tables lag its ops (sut.Lagger) is
// checked again, with a backoff, while the lag lasts: only a failure that
// outlasts it counts.
func (o *Oracle) Judge(r *check.Run) (*check.Divergence, error) {
	rels := o.Relations
	if len(rels) == 0 {
		rels = All
	}
	o.Counts.Judged++
	c := &Context{Run: r, o: o, free: o.Free}
	if c.free == nil {
		c.free = DeclaredBy(r.Stack())
	}
	defer c.restore()
	for _, rel := range rels {
		if rel.Applies != nil && !rel.Applies(r.Stack(), r.Limits()) || declaredNotApplying(r.Stack(), rel) {
			continue
		}
		f, err := c.settle(rel)
		if err != nil {
			return nil, fmt.Errorf("%s: relation %s after op %d: %w", r.Name(), rel.Name, len(r.Ops()), err)
		}
		if f != nil {
			if err := c.restore(); err != nil {
				return nil, err
			}
			return c.divergence(rel, f), nil
		}
	}
	return nil, c.restore()
}

// settle checks rel, and again while the stack may lag, until it holds.
func (c *Context) settle(rel *Relation) (*Failure, error) {
	f, err := rel.Check(c)
	if f == nil || err != nil {
		return f, err
	}
	lag := lagOf(c.Run.Stack())
	if c.o.Twin != nil {
		lag = max(lag, lagOf(c.o.Twin))
	}
	backoff := 50 * time.Microsecond
	for deadline := time.Now().Add(lag); time.Now().Before(deadline); backoff *= 2 {
		time.Sleep(backoff)
		c.Run.Counts().Retries++
		c.main, c.built, c.rebuilt = nil, false, nil
		if f, err = rel.Check(c); f == nil || err != nil {
			c.Run.Counts().Settled++
			return f, err
		}
	}
	if lag > 0 {
		c.Run.Counts().GaveUp++
	}
	return f, nil
}

func lagOf(s sut.Stack) time.Duration {
	if l, ok := s.(sut.Lagger); ok {
		return l.Lag()
	}
	return 0
}

// divergence returns f as the divergence of the run judged.
func (c *Context) divergence(rel *Relation, f *Failure) *check.Divergence {
	r := c.Run
	return &check.Divergence{
		SUT:         r.Name(),
		Config:      r.Model().Config(),
		Ops:         slices.Clone(r.Ops()),
		Relation:    rel.Name,
		RelationDoc: rel.Doc,
		Sides:       f.Sides,
		Observed:    f.Observed,
		Detail:      f.Detail,
	}
}

// Context is what a relation sees when it is checked: the run judged,
// the stack's values after its last op, and second runs on a fresh reset.
type Context struct {
	Run   *check.Run
	o     *Oracle
	free  []Freedom
	main  []any // the stack's value of each of Observables, read once
	dirty bool  // the stack itself ran a second run: restore it

	built   bool     // the rebuilt order was tried
	rebuilt *session // it, run whole and untouched since; nil otherwise
}

// Free reports whether the stack declares f order-dependent.
func (c *Context) Free(f Freedom) bool { return slices.Contains(c.free, f) }

// shown returns whether the stack shows observable o.
func (c *Context) shown(o check.Observable) bool {
	return o.ShownBy(c.Run.Stack(), c.Run.Limits())
}

// Main returns the stack's value of each of check.Observables after the
// run's last op (nil for one it does not show), read with the probes the
// run's model derives.
func (c *Context) Main() ([]any, error) {
	if c.main == nil {
		vs, err := c.read(c.Run.Stack(), c.Run.Model())
		if err != nil {
			return nil, err
		}
		c.main = vs
	}
	return c.main, nil
}

// read reads every observable s shows, with the probes of m.
func (c *Context) read(s sut.Stack, m *model.State) ([]any, error) {
	vs := make([]any, len(check.Observables))
	for i, o := range check.Observables {
		if !c.shown(o) {
			continue
		}
		v, err := check.Read(o, s, m, c.Run.Limits())
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", o, err)
		}
		vs[i] = v
	}
	return vs, nil
}

// second returns the stack second runs run on: the twin, or the stack
// itself (restored once the relations are checked).
func (c *Context) second() sut.Stack {
	if c.o.Twin != nil {
		return c.o.Twin
	}
	c.dirty = true
	return c.Run.Stack()
}

// restore brings the stack back to where the run judged is, when a
// second run ran on it: a fresh reset, then the run's ops again.
func (c *Context) restore() error {
	if !c.dirty {
		return nil
	}
	c.dirty = false
	s := c.Run.Stack()
	if err := s.Reset(c.Run.Model().Config()); err != nil {
		return fmt.Errorf("restoring %s after a second run: %w", c.Run.Name(), err)
	}
	for _, op := range c.Run.Ops() {
		if _, ok := model.ResultOf(s.Apply(op)); !ok {
			return fmt.Errorf("restoring %s after a second run: %s failed", c.Run.Name(), op)
		}
	}
	return nil
}

// A session is a second run: a fresh reset of the second stack, the
// model beside it (for the probes of lookups, exclusions and the
// bookkeeping of what its ops did), and its ops with the stack's results.
type session struct {
	c     *Context
	stack sut.Stack
	model *model.State
	side  check.Side
}

// errSkip says a second run cannot be what the relation needs (an op the
// hunt excludes): the relation does not apply.
var errSkip = errors.New("skip")

// fresh starts a second run named name.
func (c *Context) fresh(name string) (*session, error) {
	cfg := c.Run.Model().Config()
	m, err := model.New(cfg)
	if err != nil {
		return nil, err
	}
	s := c.second()
	if err := s.Reset(cfg); err != nil {
		return nil, fmt.Errorf("second run: reset to %s: %w", cfg, err)
	}
	c.o.Counts.SecondRuns++
	return &session{c: c, stack: s, model: m, side: check.Side{Name: name}}, nil
}

// excluded reports whether the hunt's exclusion would skip op here.
func (s *session) excluded(op model.Op) bool {
	return s.c.o.Exclude != nil && s.c.o.Exclude(s.model, op)
}

// apply applies op to the second run and returns the stack's result. An
// op the hunt excludes is errSkip; a crash or a hang is an error (the
// second run is not what is shrunk).
func (s *session) apply(op model.Op) (model.Result, error) {
	if s.excluded(op) {
		return 0, errSkip
	}
	s.model.Apply(op)
	err := s.stack.Apply(op)
	res, ok := model.ResultOf(err)
	if !ok {
		return 0, fmt.Errorf("second run, op %d (%s): %w", len(s.side.Ops)+1, op, err)
	}
	s.side.Ops = append(s.side.Ops, op)
	s.side.Results = append(s.side.Results, res)
	s.c.o.Counts.SecondOps++
	return res, nil
}

// observed pairs two reads of every observable, the first run's value as
// Want; those not in compare (by name; nil: all) are Off. Lookups are
// made to agree where they differ only in what the stack declares
// order-dependent (see Freedom); addrA and addrB are the addresses of the
// two runs, which that needs.
func (c *Context) observed(a, b []any, compare []string, addrA, addrB []model.Addr) []check.Observed {
	out := make([]check.Observed, len(check.Observables))
	for i, o := range check.Observables {
		out[i] = check.Observed{Of: o, Off: true}
		if !c.shown(o) || compare != nil && !slices.Contains(compare, o.String()) {
			continue
		}
		wa, gb := a[i], b[i]
		if o == check.Observable(check.Lookups) {
			wl, _ := wa.([]model.LookupResult)
			gl, _ := gb.([]model.LookupResult)
			gb = c.modulo(wl, gl, addrA, addrB)
		}
		out[i] = check.Observed{Of: o, Want: wa, Got: gb}
	}
	return out
}

// differs reports whether any observable compared differs.
func differs(obs []check.Observed) bool {
	return slices.ContainsFunc(obs, func(o check.Observed) bool { return !o.Off && o.Differs() })
}

// addrsOf returns the addresses among values read (check.Addrs), or the
// model's when the stack does not show them.
func (c *Context) addrsOf(vs []any, m *model.State) []model.Addr {
	if i := slices.Index(check.Observables, check.Observable(check.Addrs)); i >= 0 && vs[i] != nil {
		as, _ := vs[i].([]model.Addr)
		return as
	}
	return m.Addrs()
}

// userRoutes returns the user routes among values read, or the model's
// when the stack does not show its routes.
func (c *Context) userRoutes(vs []any, m *model.State) []model.Route {
	if i := slices.Index(check.Observables, check.Observable(check.Routes)); i >= 0 && vs[i] != nil && (len(c.Run.Limits().Kinds) == 0 || slices.Contains(c.Run.Limits().Kinds, model.Connected)) {
		t, _ := vs[i].(model.Table)
		var out []model.Route
		for _, r := range t {
			if r.Proto == model.ProtoBoot {
				out = append(out, r)
			}
		}
		return out
	}
	return m.UserRoutes()
}
