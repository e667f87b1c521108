// Package sut defines the interface every implementation under test
// satisfies, so that one harness can drive a simulated stack, the Linux
// kernel or an external program alike.
package sut

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"time"

	"github.com/routefuzz/routefuzz/model"
)

// Stack is an implementation under test.
//
// Apply returns the op's result as the model does: nil, or an error
// wrapping model.ErrExists, model.ErrNotFound or model.ErrInvalid. Any other
// non-nil error from any method is a harness failure (I/O, a dead process,
// a kernel refusing something outside the op's semantics), never a
// divergence; callers tell the two apart with model.ResultOf.
//
// Routes returns the canonical table of the routes that the stack's
// addresses created, and Addrs the addresses, sorted by model.Addr.Compare.
type Stack interface {
	// Reset configures the stack: these adapters exist, with no addresses,
	// and IPv4 promotion is as given. It may be called many times.
	Reset(cfg model.Config) error
	Apply(op model.Op) error
	Routes() (model.Table, error)
	Addrs() ([]model.Addr, error)
	// Close releases everything the stack holds. It is safe to call twice.
	Close() error
}

// Limits says what a stack supports, when it is less than everything. A
// stack that does not implement Limiter supports everything.
type Limits struct {
	// Kinds lists the route kinds the stack reports; only those are
	// compared. Empty means all.
	Kinds []model.RouteKind
	// Promote lists the promotion settings the stack can be Reset to.
	// Empty means both.
	Promote []bool
	// KeepAddrOnDown lists the IPv6 keep_addr_on_down settings the stack
	// can be Reset to. Empty means both.
	KeepAddrOnDown []bool
	// IPv4 and IPv6 say which families the stack supports.
	IPv4, IPv6 bool
	// Attrs lists the capabilities (model.Attr.Capability) of the
	// address attributes the stack takes: "metrics", "noprefixroute",
	// "lifetimes". An op that sets another is not sent to it.
	Attrs []string
	// Ops lists the op kinds the stack takes. Empty means every kind of
	// model.Alphabet that a stack need not declare (TakesKind).
	Ops []model.OpKind
	// MaxIPv4, MaxIPv6, if not zero, are the most addresses of the
	// family an adapter holds at once (lwIP: one IPv4 address per
	// netif). An add beyond it is never drawn or sent (Exceeds).
	MaxIPv4, MaxIPv6 int
	// Observables names the observables (check.Observables: "routes",
	// "addresses", "lookups") the stack shows, when it is fewer than all
	// it implements: a stack that answers lookups but keeps no
	// kernel-style table leaves "routes" out (its Routes is never
	// called) and is checked on the others. Empty means all.
	// Lookups are compared only with a stack that is a Looker.
	Observables []string
}

// Shows reports whether the stack shows the observable named name
// (Limits.Observables).
func (l Limits) Shows(name string) bool {
	return len(l.Observables) == 0 || slices.Contains(l.Observables, name)
}

// All is the Limits of a stack that supports everything.
var All = Limits{IPv4: true, IPv6: true, Attrs: model.Capabilities()}

// TakesKind reports whether the stack takes ops of kind k: it lists k in
// Ops, or lists none and k is not a kind a stack must declare
// (model.OpSpec.Declared).
func (l Limits) TakesKind(k model.OpKind) bool {
	if len(l.Ops) == 0 {
		sp := k.Spec()
		return sp != nil && !sp.Declared
	}
	return slices.Contains(l.Ops, k)
}

// Takes reports whether the stack takes attribute a (see
// model.Attr.Capability).
func (l Limits) Takes(a *model.Attr) bool {
	return slices.Contains(l.Attrs, a.Capability)
}

// SetTakes records whether the stack takes attribute a.
func (l *Limits) SetTakes(a *model.Attr, ok bool) {
	l.Attrs = slices.DeleteFunc(slices.Clone(l.Attrs), func(c string) bool { return c == a.Capability })
	if ok {
		l.Attrs = append(l.Attrs, a.Capability)
	}
}

// Unsupported returns why a stack with limits l cannot take op (its kind,
// its address family or an attribute it sets), or "" when it can. It is
// what corpus gating, the generator and the protocol ask.
func (l Limits) Unsupported(op model.Op) string {
	switch {
	case !l.TakesKind(op.Kind):
		return op.Kind.String() + " not supported"
	case op.Prefix.Addr().Is4() && !l.IPv4:
		return "IPv4 not supported"
	case op.Prefix.Addr().Is6() && !l.IPv6:
		return "IPv6 not supported"
	}
	for _, a := range model.Attrs() {
		if a.Get(op) != 0 && !l.Takes(a) {
			return a.Capability + " not supported"
		}
	}
	return ""
}

// Exceeds returns why op, on a stack whose state the model st follows,
// would put more addresses of its family on its adapter than the stack
// holds at once (MaxIPv4, MaxIPv6), or "" when it would not: it is not an
// add, the limit is not reached, or the address is already there (the
// add gives exists).
func (l Limits) Exceeds(st *model.State, op model.Op) string {
	if op.Kind != model.Add {
		return ""
	}
	v4 := op.Prefix.Addr().Is4()
	most, fam := l.MaxIPv6, "IPv6"
	if v4 {
		most, fam = l.MaxIPv4, "IPv4"
	}
	if most == 0 || st.Has(op.Adapter, op.Prefix) {
		return ""
	}
	n := 0
	for _, e := range st.On(op.Adapter) {
		if e.Prefix.Addr().Is4() == v4 {
			n++
		}
	}
	if n < most {
		return ""
	}
	return fmt.Sprintf("%s holds %d %s address(es), the most the stack takes", op.Adapter, n, fam)
}

// Limiter is implemented by stacks that support less than All.
type Limiter interface {
	Limits() Limits
}

// LimitsOf returns s's limits, or All.
func LimitsOf(s Stack) Limits {
	if l, ok := s.(Limiter); ok {
		return l.Limits()
	}
	return All
}

// Looker is implemented by stacks that answer route lookups, as `ip
// route get DST` does: the answer's Hop for a lookup of dst with no
// output interface and no source given (model.State.Lookup says what is
// right), its Or empty. No route is an answer (model.Unreachable), not an
// error; an error is a harness failure, or wraps ErrCrash or ErrHang.
type Looker interface {
	Lookup(dst netip.Addr) (model.LookupResult, error)
}

// BatchLooker is a Looker that answers many lookups at once, faster than
// one by one (the kernel: all requests sent, then all answers read).
// LookupAll returns one answer per dst, in order, each with its Dst.
type BatchLooker interface {
	Looker
	LookupAll(dsts []netip.Addr) ([]model.LookupResult, error)
}

// Lagger is implemented by stacks whose tables may lag the result of an
// op (the Linux kernel adds IPv6 local routes asynchronously). Lag says,
// after each Apply, how long a harness should re-read a differing route
// table, with a short backoff, before it declares a divergence: zero when
// the stack knows its tables already show every op it has applied, so
// that a real divergence is final at once.
type Lagger interface {
	Lag() time.Duration
}

// ErrUnsupported is returned by Reset for a configuration the stack cannot
// take (say, a promotion setting it does not implement).
var ErrUnsupported = errors.New("unsupported by this stack")

// ErrCrash and ErrHang are wrapped by the errors of a stack that failed on
// an op in a way that is its own bug, not the harness's: an external
// program that exited, was killed or broke the protocol after its
// handshake (ErrCrash), or did not answer within its timeout (ErrHang).
// The harness reports them as findings, shrinks them and saves them like
// divergences. A stack that returned one must start afresh on the next
// Reset. Failures outside the stack's semantics (the program does not
// start, speaks another protocol version, breaks the handshake) wrap
// neither, and stay harness errors.
var (
	ErrCrash = errors.New("stack crashed")
	ErrHang  = errors.New("stack hung")
)
