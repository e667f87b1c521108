package linux

import (
	"testing"
	"time"

	"github.com/routefuzz/routefuzz/check"
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

// The model agrees with the kernel over random sequences of IPv4 and IPv6
// adds and deletes with metrics, on three adapters, for both promotion
// settings, with the recorded kernel divergences excluded. Fixed seeds keep
// it deterministic in what it draws.
func TestAgreesWithModel(t *testing.T) {
	s := open(t)
	known, err := props.Exclusions(KnownDivergences)
	if err != nil {
		t.Fatal(err)
	}
	exclude := func(st *model.State, op model.Op) bool { return known(st, op) || pendingExclusion(st, op) }
	const minSteps = 20000
	for _, promote := range []bool{false, true} {
		for _, keep := range []bool{false, true} {
			res, err := props.Hunt(s, props.Config{Name: "linux", Promote: promote, KeepAddrOnDown: keep, Attrs: true, Exclude: exclude},
				props.Budget{Checks: 860, Seed: 20261125})
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("promote=%v keep_addr_on_down=%v: %s retries=%d", promote, keep, res.Summary("linux"), res.Retries)
			if res.Minimal != nil {
				t.Fatalf("\n%s", res.Minimal.Report())
			}
			if res.Steps < minSteps {
				t.Errorf("promote=%v keep_addr_on_down=%v: only %d steps, want at least %d", promote, keep, res.Steps, minSteps)
			}
		}
	}
}

// Each known divergence is still there: without its exclusion, the kernel
// diverges on its recorded ops. A kernel that fixed one shows up here.
func TestKnownDivergencesHold(t *testing.T) {
	s := open(t)
	for _, k := range knownCases {
		d, err := check.Replay("linux", s, model.Config{Adapters: abc.Adapters, Promote: k.promote}, k.ops, nil)
		if err != nil {
			t.Fatal(err)
		}
		if d == nil {
			t.Errorf("%s: the kernel now agrees with the model on\n%s", k.name, check.FormatOps(k.ops))
			continue
		}
		ex, err := props.Exclusions([]string{k.name})
		if err != nil {
			t.Fatal(err)
		}
		m, _ := model.New(model.Config{Adapters: abc.Adapters, Promote: k.promote})
		last := k.ops[len(k.ops)-1]
		for _, op := range k.ops[:len(k.ops)-1] {
			m.Apply(op)
		}
		if !ex(m, last) {
			t.Errorf("%s: its exclusion does not match the last op %s", k.name, last)
		}
	}
}

var knownCases = []struct {
	name    string
	promote bool
	ops     []model.Op
}{
	{"linux-src-is-broadcast", false, ops("add a0 10.0.0.1/24", "add a1 10.0.0.255/24")},
	{"linux-src-is-broadcast", false, ops("add a0 10.0.0.1/24", "add a0 10.0.0.255/16")},
	{"linux-src-is-broadcast", true, ops("add a0 10.0.0.1/16", "add a0 10.0.1.255/16", "add a1 10.0.1.1/24", "del a0 10.0.0.1/16")},
	{"linux-ipv6-prefix-metric", false, ops("add a0 2001:db8::1/64 metric 100", "add a0 2001:db8::2/64 metric 200", "del a0 2001:db8::1/64")},
	{"linux-ipv6-prefix-metric", false, ops("add a0 2001:db8::1/64", "add a0 2001:db8::2/64 metric 100", "del a0 2001:db8::1/64")},
}

func ops(ss ...string) []model.Op {
	var o []model.Op
	for _, s := range ss {
		o = append(o, model.MustParseOp(s))
	}
	return o
}

// BenchmarkLinuxStep measures kernel steps per second: one op plus the
// reads that compare state (routes, with re-reads while an IPv6 local route
// lags, and addresses), on random sequences like a hunt's.
func BenchmarkLinuxStep(b *testing.B) {
	s := open(b)
	exclude, _ := props.Exclusions(KnownDivergences)
	var steps, retries int
	start := time.Now()
	for b.Loop() {
		res, err := props.Hunt(s, props.Config{Name: "linux", Attrs: true, Exclude: exclude},
			props.Budget{Checks: 20, Seed: uint64(steps + 1)})
		if err != nil || res.Minimal != nil {
			b.Fatal(err, res.Minimal)
		}
		steps += res.Steps
		retries += res.Retries
	}
	el := time.Since(start)
	b.ReportMetric(float64(steps)/el.Seconds(), "steps/s")
	b.ReportMetric(float64(retries)/float64(steps), "retries/step")
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
	b.Run("reset", func(b *testing.B) {
		for b.Loop() {
			setup()
		}
	})
}
