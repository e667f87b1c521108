package props

import (
	"fmt"
	"slices"
	"strings"

	"github.com/routefuzz/routefuzz/corpus"
	"github.com/routefuzz/routefuzz/model"
)

// An Exclusion names a pattern of ops known to diverge on some stack (a
// recorded kernel bug, say) so that a hunt can go past it and find others.
// Match sees the model before op and reports whether op is to be skipped.
type Exclusion struct {
	Name string
	Doc  string // what the known divergence is, and where it is recorded
	// Stacks are the stacks (stacks.Names) whose known divergence this is:
	// "known" checking one of them stands for it. Every exclusion names at
	// least one.
	Stacks []string
	Match  func(st *model.State, op model.Op) bool
}

// exclusions holds every known Exclusion by name. Files that record a known
// divergence add theirs with RegisterExclusion in an init function.
var exclusions = map[string]Exclusion{}

// RegisterExclusion makes e available to Exclusions. It panics on a
// duplicate name, or when e names no stack.
func RegisterExclusion(e Exclusion) {
	if _, dup := exclusions[e.Name]; dup {
		panic("props: exclusion " + e.Name + " registered twice")
	}
	if len(e.Stacks) == 0 {
		panic("props: exclusion " + e.Name + " names no stack")
	}
	exclusions[e.Name] = e
}

// ExclusionNames lists every registered exclusion, of every stack, sorted.
func ExclusionNames() []string {
	var ns []string
	for n := range exclusions {
		ns = append(ns, n)
	}
	slices.Sort(ns)
	return ns
}

// ExclusionNamesFor lists the exclusions of stack's known divergences,
// sorted: what "known" stands for when stack is checked.
func ExclusionNamesFor(stack string) []string {
	var ns []string
	for n, e := range exclusions {
		if slices.Contains(e.Stacks, stack) {
			ns = append(ns, n)
		}
	}
	slices.Sort(ns)
	return ns
}

// LookupExclusion returns the named exclusion.
func LookupExclusion(name string) (Exclusion, bool) {
	e, ok := exclusions[name]
	return e, ok
}

// ExclusionsFor returns an Exclude function for checking stack that skips
// an op when any of the named exclusions matches it. The name "known"
// stands for the known divergences of stack (ExclusionNamesFor); any
// other registered name may be given whatever its stacks. It returns nil
// when names come to no exclusion.
func ExclusionsFor(stack string, names []string) (func(*model.State, model.Op) bool, error) {
	var es []Exclusion
	if slices.Contains(names, "known") {
		names = append(slices.DeleteFunc(slices.Clone(names), func(n string) bool { return n == "known" }), ExclusionNamesFor(stack)...)
	}
	for _, n := range names {
		e, ok := exclusions[n]
		if !ok {
			return nil, fmt.Errorf("unknown exclusion %q (have %s)", n, strings.Join(ExclusionNames(), ", "))
		}
		if !slices.ContainsFunc(es, func(x Exclusion) bool { return x.Name == e.Name }) {
			es = append(es, e)
		}
	}
	if len(es) == 0 {
		return nil, nil
	}
	return func(st *model.State, op model.Op) bool {
		return slices.ContainsFunc(es, func(e Exclusion) bool { return e.Match(st, op) })
	}, nil
}

// KnownOp returns the first op of c, a case that stack must agree on,
// that one of stack's known exclusions matches, with that exclusion's
// name: replaying c on stack would show that known divergence rather than
// test what c is about (the gVisor sentry's subnet-route loss in a case
// that deletes one of two addresses of a subnet, say), so a replay of the
// corpus skips c there. ok is false when c names stack in a verdict or no
// known exclusion of stack matches.
func KnownOp(c *corpus.Case, stack string) (op model.Op, name string, ok bool) {
	names := ExclusionNamesFor(stack)
	if len(names) == 0 || c.Expect(stack) != corpus.ExpectAgree {
		return model.Op{}, "", false
	}
	st, err := model.New(c.Config())
	if err != nil {
		return model.Op{}, "", false
	}
	for _, op := range c.Ops {
		for _, n := range names {
			if exclusions[n].Match(st, op) {
				return op, n, true
			}
		}
		st.Apply(op)
	}
	return model.Op{}, "", false
}
