package linux

import (
	"testing"
	"time"

	"github.com/routefuzz/routefuzz/model"
	"github.com/routefuzz/routefuzz/props"
)

// eventually polls f for up to Lag.
func eventually(f func() bool) bool {
	for deadline := time.Now().Add(Lag); ; time.Sleep(100 * time.Microsecond) {
		if f() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
	}
}

// The model agrees with the kernel over random sequences of every op kind
// (address adds, deletes and changes with attributes, link ops, user
// routes), on three adapters, for both promotion and keep_addr_on_down
// settings, with the recorded kernel divergences excluded. Fixed seeds keep
// it deterministic in what it draws. Route adds that succeed, and route
// dels that delete, must make up a fair share of the steps.
func TestAgreesWithModel(t *testing.T) {
	s := open(t)
	exclude, err := props.ExclusionsFor("linux", []string{"known"})
	if err != nil {
		t.Fatal(err)
	}
	const minSteps = 20000
	for _, promote := range []bool{false, true} {
		for _, keep := range []bool{false, true} {
			res, err := props.Hunt(s, props.Config{Name: "linux", Promote: promote, KeepAddrOnDown: keep, Attrs: true, Exclude: exclude},
				props.Budget{Checks: 1000, Seed: 20261125})
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("promote=%v keep_addr_on_down=%v: %s retries=%d", promote, keep, res.Summary("linux"), res.Retries)
			switch {
			case res.Minimal != nil && !res.Flaky:
				t.Fatalf("\n%s", res.Minimal.Report())
			case res.Flaky:
				// Not a divergence: it did not reproduce from a fresh
				// reset, so the harness does not report it (seen once with
				// the machine at a load of 20 on 2 cores, an IPv6 local
				// route later than LocalWait). Shown for whoever looks.
				t.Logf("a difference that did not reproduce (not a divergence):\n%s", res.Minimal.Report())
			}
			if res.Steps < minSteps {
				t.Errorf("promote=%v keep_addr_on_down=%v: only %d steps, want at least %d", promote, keep, res.Steps, minSteps)
			}
			routeOps := 0 // route ops that changed the table (result ok)
			for _, k := range res.Generated.Kinds {
				if kind, err := model.ParseOpKind(k.Kind); err == nil && kind.Spec().Routes() {
					for _, r := range k.Results {
						if r.Result == model.OK.String() {
							routeOps += r.Ops
						}
					}
				}
			}
			t.Logf("promote=%v keep_addr_on_down=%v: %s", promote, keep, res.Generated.String())
			if routeOps < res.Steps/40 {
				t.Errorf("promote=%v keep_addr_on_down=%v: %d route ops changed the table in %d steps: too few", promote, keep, routeOps, res.Steps)
			}
		}
	}
}

// BenchmarkLinuxStep measures kernel steps per second: one op plus the
// reads that compare state (routes, with re-reads while an IPv6 local route
// lags, addresses and lookups), on random sequences like a hunt's: with
// every op kind drawn ("all"), and without the route kinds ("no-routes"),
// which is what a step cost before user routes.
func BenchmarkLinuxStep(b *testing.B) {
	s := open(b)
	exclude, _ := props.ExclusionsFor("linux", []string{"known"})
	var noRoutes []model.OpKind
	for _, sp := range model.Alphabet {
		if !sp.Routes() {
			noRoutes = append(noRoutes, sp.Kind)
		}
	}
	for _, c := range []struct {
		name string
		ops  []model.OpKind
	}{{"all", nil}, {"no-routes", noRoutes}} {
		b.Run(c.name, func(b *testing.B) {
			var steps, retries int
			start := time.Now()
			for b.Loop() {
				res, err := props.Hunt(s, props.Config{Name: "linux", Attrs: true, Exclude: exclude, Ops: c.ops},
					props.Budget{Checks: 20, Seed: uint64(steps + 1)})
				if err != nil || res.Minimal != nil {
					b.Fatal(err, res.Minimal)
				}
				steps += res.Steps
				retries += res.Retries
			}
			el := time.Since(start)
			b.ReportMetric(float64(el.Microseconds())/float64(steps), "µs/step")
			b.ReportMetric(float64(retries)/float64(steps), "retries/step")
		})
	}
}

// BenchmarkLinuxParts breaks a step down: an address op, a route dump and
// an address dump with a dozen addresses present, and a Reset.
func BenchmarkLinuxParts(b *testing.B) {
	s := open(b)
	setup := func() {
		if err := s.Reset(abc); err != nil {
			b.Fatal(err)
		}
		for _, o := range []string{"add a0 10.0.0.1/24", "add a0 10.0.0.2/24", "add a1 10.0.1.1/16 metric 100", "add a2 10.1.0.1/8",
			"add a0 2001:db8:0:1::1/64", "add a1 2001:db8:0:2::1/64 metric 100", "add a2 2001:db8:1:1::1/48", "add a2 2001:db8:1:1::2/48"} {
			if err := s.Apply(model.MustParseOp(o)); err != nil {
				b.Fatal(err)
			}
		}
	}
	setup()
	add, del := model.MustParseOp("add a1 10.0.0.3/24"), model.MustParseOp("del a1 10.0.0.3/24")
	add6, del6 := model.MustParseOp("add a1 2001:db8:0:3::1/64"), model.MustParseOp("del a1 2001:db8:0:3::1/64")
	b.Run("op4", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			op := add
			if i%2 == 1 {
				op = del
			}
			if err := s.Apply(op); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("op6", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			op := add6
			if i%2 == 1 {
				op = del6
			}
			if err := s.Apply(op); err != nil {
				b.Fatal(err)
			}
		}
	})
	s.Apply(del6)
	rs, _ := s.Routes()
	b.Run("routes", func(b *testing.B) {
		for b.Loop() {
			if _, err := s.Routes(); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(len(rs)), "routes")
	})
	b.Run("addrs", func(b *testing.B) {
		for b.Loop() {
			if _, err := s.Addrs(); err != nil {
				b.Fatal(err)
			}
		}
	})
	// The lookups of the model's probes in that state: all in one batch
	// (what a step does), and one request at a time.
	m, _ := model.New(abc)
	for _, r := range []string{"add a0 10.0.0.1/24", "add a0 10.0.0.2/24", "add a1 10.0.1.1/16 metric 100", "add a2 10.1.0.1/8",
		"add a0 2001:db8:0:1::1/64", "add a1 2001:db8:0:2::1/64 metric 100", "add a2 2001:db8:1:1::1/48", "add a2 2001:db8:1:1::2/48"} {
		m.Apply(model.MustParseOp(r))
	}
	probes := m.Probes()
	b.Run("lookups", func(b *testing.B) {
		for b.Loop() {
			if _, err := s.LookupAll(probes); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(len(probes)), "probes")
	})
	b.Run("lookups-one-by-one", func(b *testing.B) {
		for b.Loop() {
			for _, p := range probes {
				if _, err := s.Lookup(p); err != nil {
					b.Fatal(err)
				}
			}
		}
		b.ReportMetric(float64(len(probes)), "probes")
	})
	b.Run("reset", func(b *testing.B) {
		for b.Loop() {
			setup()
		}
	})
}
