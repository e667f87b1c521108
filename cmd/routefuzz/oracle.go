package main

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/routefuzz/routefuzz/model"
	"github.com/routefuzz/routefuzz/relations"
	"github.com/routefuzz/routefuzz/sut"
)

// `check -oracle model|relations|both` says what judges the stack: the
// model (the default), the relations every correct stack satisfies
// (package relations: no model is compared), or both, the model first.
// -relations narrows the relations checked. Second runs of the relations
// run on a twin: the same stack opened a second time.

// oracleRelations returns the relations -relations names (all when
// empty), or an error naming the unknown one.
func (f *checkFlags) oracleRelations() ([]*relations.Relation, error) {
	switch f.oracle {
	case "model", "relations", "both":
	default:
		return nil, fmt.Errorf("-oracle: want model, relations or both, not %q", f.oracle)
	}
	if f.oracle == "model" {
		if f.relations != "" {
			return nil, errors.New("-relations is for -oracle relations or both")
		}
		return nil, nil
	}
	if f.vs != "" {
		return nil, fmt.Errorf("-oracle %s judges one stack; -vs compares two: give one or the other", f.oracle)
	}
	if f.relations == "" {
		return relations.All, nil
	}
	var rs []*relations.Relation
	for _, n := range strings.Split(f.relations, ",") {
		r, ok := relations.Lookup(strings.TrimSpace(n))
		if !ok {
			return nil, fmt.Errorf("-relations: unknown relation %q (have %s)", n, strings.Join(relations.Names(), ", "))
		}
		if !slices.Contains(rs, r) {
			rs = append(rs, r)
		}
	}
	return rs, nil
}

// judge returns stack judged by the relations rs, their second runs on a
// twin opened from the same flags (f.twin, which the caller closes), or
// stack itself when rs is empty. On an error it closes stack.
func (f *checkFlags) judge(stack sut.Stack, rs []*relations.Relation, exclude func(*model.State, model.Op) bool) (sut.Stack, error) {
	if len(rs) == 0 {
		return stack, nil
	}
	twin, err := f.open()
	if err != nil {
		stack.Close()
		return nil, fmt.Errorf("-oracle %s: opening a second %s for the relations' second runs: %w", f.oracle, f.name, err)
	}
	f.twin = twin
	o := &relations.Oracle{Relations: rs, Twin: twin, Exclude: exclude}
	return o.Judged(stack, f.oracle == "both"), nil
}

// oracleArgs returns the flags that judge the same way again.
func (f *checkFlags) oracleArgs() string {
	if f.oracle == "model" || f.oracle == "" {
		return ""
	}
	a := " -oracle " + f.oracle
	if f.relations != "" {
		a += " -relations " + f.relations
	}
	return a
}

// describeOracle says what judges the run, for its first line.
func (f *checkFlags) describeOracle() string {
	switch f.oracle {
	case "relations":
		return ", judged by the relations (" + f.relationNames() + "), no model compared"
	case "both":
		return ", compared with the model and judged by the relations (" + f.relationNames() + ")"
	}
	return ""
}

func (f *checkFlags) relationNames() string {
	if f.relations != "" {
		return f.relations
	}
	return strings.Join(relations.Names(), ", ")
}
