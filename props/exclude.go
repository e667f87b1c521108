package props

import (
	"fmt"
	"slices"
	"strings"

	"github.com/routefuzz/routefuzz/model"
)

// An Exclusion names a pattern of ops known to diverge on some stack (a
// recorded kernel bug, say) so that a hunt can go past it and find others.
// Match sees the model before op and reports whether op is to be skipped.
type Exclusion struct {
	Name  string
	Doc   string // what the known divergence is, and where it is recorded
	Match func(st *model.State, op model.Op) bool
}

// exclusions holds every known Exclusion by name. Files that record a known
// divergence add theirs with RegisterExclusion in an init function.
var exclusions = map[string]Exclusion{}

// RegisterExclusion makes e available to Exclusions. It panics on a
// duplicate name.
func RegisterExclusion(e Exclusion) {
	if _, dup := exclusions[e.Name]; dup {
		panic("props: exclusion " + e.Name + " registered twice")
	}
	exclusions[e.Name] = e
}

// ExclusionNames lists the registered exclusions, sorted.
func ExclusionNames() []string {
	var ns []string
	for n := range exclusions {
		ns = append(ns, n)
	}
	slices.Sort(ns)
	return ns
}

// LookupExclusion returns the named exclusion.
func LookupExclusion(name string) (Exclusion, bool) {
	e, ok := exclusions[name]
	return e, ok
}

// Exclusions returns an Exclude function that skips an op when any of the
// named exclusions matches it. The name "known" stands for every
// registered exclusion.
func Exclusions(names []string) (func(*model.State, model.Op) bool, error) {
	var es []Exclusion
	if slices.Contains(names, "known") {
		names = append(slices.DeleteFunc(slices.Clone(names), func(n string) bool { return n == "known" }), ExclusionNames()...)
	}
	for _, n := range names {
		e, ok := exclusions[n]
		if !ok {
			return nil, fmt.Errorf("unknown exclusion %q (have %s)", n, strings.Join(ExclusionNames(), ", "))
		}
		es = append(es, e)
	}
	if len(es) == 0 {
		return nil, nil
	}
	return func(st *model.State, op model.Op) bool {
		return slices.ContainsFunc(es, func(e Exclusion) bool { return e.Match(st, op) })
	}, nil
}
