package model_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/routefuzz/routefuzz/internal/routerules"
	"github.com/routefuzz/routefuzz/model"
)

// The rules of user routes (internal/routerules: docs/routes.md, each as
// observed on Linux 6.18) hold in the model.

// apply makes a model of cfg and applies ops, one per line; every op must
// succeed.
func apply(t *testing.T, cfg model.Config, ops string) *model.State {
	t.Helper()
	s, err := model.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(ops, "\n") {
		if line = strings.TrimSpace(line); line == "" {
			continue
		}
		if err := s.Apply(model.MustParseOp(line)); err != nil {
			t.Fatalf("%s: %v", line, err)
		}
	}
	return s
}

func TestRouteOps(t *testing.T) {
	for _, tc := range routerules.Sequences {
		t.Run(tc.Name, func(t *testing.T) {
			s := apply(t, tc.Config(), tc.Ops)
			var got []string
			for _, r := range s.UserRoutes() {
				got = append(got, r.String())
			}
			if g := strings.Join(got, "\n"); g != tc.Want {
				t.Errorf("user routes:\n%s\nwant:\n%s", g, tc.Want)
			}
			for _, r := range s.UserRoutes() {
				if !slices.Contains(s.Routes(), r) {
					t.Errorf("user route %s is not in the table", r)
				}
			}
			for _, line := range strings.Split(tc.Lookups, "\n") {
				if line == "" {
					continue
				}
				want := model.MustParseLookup(line)
				if got := s.Lookup(want.Dst); got.String() != want.String() {
					t.Errorf("lookup %s = %s; want %s", want.Dst, got, want)
				}
			}
		})
	}
}

func TestRouteResults(t *testing.T) {
	for _, tc := range routerules.Results {
		s := apply(t, model.Config{Adapters: routerules.ResultAdapters}, routerules.ResultSetup+tc.Ops)
		before := s.Routes().String()
		err := s.Apply(model.MustParseOp(tc.Op))
		if tc.Want == nil && err != nil || tc.Want != nil && !errors.Is(err, tc.Want) {
			t.Errorf("after %q, %s = %v; want %v", tc.Ops, tc.Op, err, tc.Want)
		}
		if tc.Want != nil && s.Routes().String() != before {
			t.Errorf("%s failed but changed the routes", tc.Op)
		}
	}
}
