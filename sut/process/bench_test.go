package process

import (
	"testing"

	"github.com/routefuzz/routefuzz/model"
)

// BenchmarkStep measures the protocol's share of one step as the check
// engine takes it: an op, then routes and addresses, three requests
// against the test helper (the fixed stack), with no model. It reports
// steps/s.
func BenchmarkStep(b *testing.B) {
	s, err := Start(helperCmd(), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	if err := s.Reset(cfg); err != nil {
		b.Fatal(err)
	}
	ops := []model.Op{model.MustParseOp("add a0 10.0.0.1/24"), model.MustParseOp("del a0 10.0.0.1/24")}
	for i := 0; b.Loop(); i++ {
		if err := s.Apply(ops[i%2]); err != nil {
			b.Fatal(err)
		}
		if _, err := s.Routes(); err != nil {
			b.Fatal(err)
		}
		if _, err := s.Addrs(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "steps/s")
}
