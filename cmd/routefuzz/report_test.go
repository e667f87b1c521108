package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/routefuzz/routefuzz/check"
	"github.com/routefuzz/routefuzz/model"
	"github.com/routefuzz/routefuzz/props"
	"github.com/routefuzz/routefuzz/sut"
	"github.com/routefuzz/routefuzz/sut/fixed"
	"github.com/routefuzz/routefuzz/sut/legacy"
)

// readReport decodes a report, refusing any field the schema lacks.
func readReport(t *testing.T, path string) Report {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var r Report
	require.NoError(t, dec.Decode(&r), "%s", b)
	return r
}

// TestReportOfADivergence runs check on the legacy stack, which
// diverges, and checks every field of its report.
func TestReportOfADivergence(t *testing.T) {
	dir := t.TempDir()
	out, code := run(t, dir, "check", "-sut", "legacy", "-seed", "3", "-checks", "100", "-save", "found", "-report", "r.json")
	require.Equal(t, 1, code, out)
	r := readReport(t, filepath.Join(dir, "r.json"))
	require.Equal(t, ReportSchema, r.Schema)
	require.Equal(t, "check", r.Command)
	require.Equal(t, verdictDiverged, r.Verdict)
	require.Equal(t, 1, r.Exit)
	require.Empty(t, r.Error)
	require.Nil(t, r.KB287032)
	require.Equal(t, ReportStack{Name: "legacy", Doc: "simulated stack with the KB287032 route bookkeeping bug"}, r.Stack)
	var kinds []string
	for _, sp := range model.Alphabet {
		if !sp.Declared { // legacy declares no ops: it takes every kind but hold
			kinds = append(kinds, sp.Name)
		}
	}
	require.Equal(t, ReportConfig{Checks: 100, Steps: 30, Adapters: 3, Families: []string{"ipv4", "ipv6"}, Attrs: true, Ops: kinds, Exclude: []string{}}, r.Config)
	require.Equal(t, uint64(3), r.Seed)
	require.Contains(t, r.Reproduce, "check -sut legacy -seed 3 -checks 100")
	m := summary.FindStringSubmatch(lastLine(out))
	require.NotNil(t, m, out)
	require.Equal(t, m[2], fmt.Sprint(r.Counts.Checks))
	require.Equal(t, m[3], fmt.Sprint(r.Counts.Steps))
	require.Equal(t, 1, r.Counts.Divergences)
	require.Zero(t, r.Counts.Flaky)
	require.Greater(t, r.Counts.Shrinks, 0)
	require.Greater(t, r.Counts.ElapsedMS, int64(0))
	// The statistics describe the search: one sequence per check.
	s := r.Statistics
	require.Equal(t, r.Counts.Checks, s.Sequences)
	require.Equal(t, r.Counts.Steps, s.Ops)
	require.Len(t, s.Kinds, len(model.Alphabet))
	require.Contains(t, out, strings.TrimSuffix(s.String(), "\n")+"\nroutefuzz: sut=legacy", "the block the text prints, right before the summary")
	// The minimal order (rapid's shrinking is bounded in time, so its
	// addresses vary under load), replayed step by step: each step's
	// differences are those of the same replay through check.
	d := r.Divergence
	require.NotNil(t, d)
	require.True(t, d.Reproduced)
	require.Empty(t, d.Failed)
	require.Empty(t, d.ReplayError)
	require.Equal(t, []string{"routes", "lookups"}, d.Aspects)
	require.Equal(t, []string{"a0", "a1"}, d.Adapters)
	require.False(t, d.Promote)
	require.False(t, d.KeepAddrOnDown)
	require.Len(t, d.Ops, 3)
	require.True(t, strings.HasPrefix(d.Ops[2], "del "), d.Ops[2])
	require.Len(t, d.Steps, 3)
	cfg := model.Config{Adapters: d.Adapters}
	var ops []model.Op
	for i, st := range d.Steps {
		require.Equal(t, d.Ops[i], st.Op)
		require.Equal(t, "ok", st.Model)
		require.Equal(t, "ok", st.Stack)
		require.Empty(t, st.StackMessage)
		ops = append(ops, model.MustParseOp(st.Op))
		e, err := check.Replay("legacy", legacy.New(), cfg, ops, nil)
		require.NoError(t, err)
		if i < 2 {
			require.Nil(t, e)
			require.Empty(t, st.Differences)
			continue
		}
		require.NotNil(t, e)
		want, got := check.Routes.Of(e)
		require.Len(t, st.Differences, 2)
		require.Equal(t, "lookups", st.Differences[1].Observable)
		require.Len(t, st.Differences[1].Missing, 3, "the network, a neighbour and the broadcast address by a0")
		require.Len(t, st.Differences[1].Extra, 3, "by a1")
		diff := st.Differences[0]
		require.Equal(t, "routes", diff.Observable)
		require.Len(t, diff.Missing, 2, "the subnet and broadcast routes of a0")
		require.Len(t, diff.Extra, 2, "those of a1")
		lines := func(t model.Table) map[string]bool {
			m := map[string]bool{}
			for _, r := range t {
				m[r.String()] = true
			}
			return m
		}
		w, g := lines(want), lines(got)
		for _, l := range diff.Missing {
			require.True(t, w[l] && !g[l], l)
		}
		for _, l := range diff.Extra {
			require.True(t, g[l] && !w[l], l)
		}
		require.Equal(t, len(want)-len(diff.Missing), len(got)-len(diff.Extra), "the rest is common")
	}
	require.NotNil(t, r.Saved)
	require.Contains(t, out, "saved: "+r.Saved.Case+" (report: "+r.Saved.HTML+")")
	_, err := os.Stat(filepath.Join(dir, r.Saved.Case))
	require.NoError(t, err)
}

func TestReportVerdicts(t *testing.T) {
	dir := t.TempDir()
	out, code := run(t, dir, "check", "-sut", "fixed", "-seed", "1", "-checks", "20", "-report", "ok.json")
	require.Equal(t, 0, code, out)
	r := readReport(t, filepath.Join(dir, "ok.json"))
	require.Equal(t, verdictPassed, r.Verdict)
	require.Equal(t, 0, r.Exit)
	require.Nil(t, r.Divergence)
	require.Nil(t, r.Saved)
	require.Equal(t, 20, r.Statistics.Sequences)

	out, code = run(t, dir, "check", "-sut", "nosuch", "-report", "bad.json")
	require.Equal(t, 2, code, out)
	r = readReport(t, filepath.Join(dir, "bad.json"))
	require.Equal(t, verdictError, r.Verdict)
	require.Equal(t, 2, r.Exit)
	require.Contains(t, out, "routefuzz: "+r.Error+"\n", "the error printed, not a pointer to it")
	require.Contains(t, r.Error, "nosuch")

	out, code = run(t, dir, "check", "-sut", "fixed", "-checks", "0", "-report", "bad.json")
	require.Equal(t, 2, code, out)
	r = readReport(t, filepath.Join(dir, "bad.json"))
	require.Equal(t, "-checks must be at least 1, not 0", r.Error)

	out, code = run(t, dir, "hunt", "-seed", "5", "-report", "hunt.json")
	require.Equal(t, 0, code, out)
	r = readReport(t, filepath.Join(dir, "hunt.json"))
	require.Equal(t, "hunt", r.Command)
	require.Equal(t, verdictDiverged, r.Verdict)
	require.Equal(t, 0, r.Exit)
	require.NotNil(t, r.KB287032)
	require.True(t, *r.KB287032)
}

// TestReportWhenInterrupted: SIGINT still leaves a report, which says so.
func TestReportWhenInterrupted(t *testing.T) {
	dir := t.TempDir()
	script := filepath.Join(dir, "slow.sh")
	require.NoError(t, os.WriteFile(script, []byte(`#!/bin/sh
touch `+filepath.Join(dir, "started")+`
while read l; do
  case "$l" in
    hello*) echo "hello routefuzz 1";;
    routes|addrs) sleep 0.01; echo ".";;
    *) echo ok;;
  esac
done
`), 0o755))
	cmd := exec.Command(bin, "check", "-sut", "exec", "-exec", script, "-checks", "1000000", "-seed", "1", "-report", "r.json")
	cmd.Dir = dir
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	require.NoError(t, cmd.Start())
	for i := 0; i < 500; i++ {
		if _, err := os.Stat(filepath.Join(dir, "started")); err == nil {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond)
	require.NoError(t, cmd.Process.Signal(syscall.SIGINT))
	cmd.Wait()
	require.Equal(t, 130, cmd.ProcessState.ExitCode(), out.String())
	r := readReport(t, filepath.Join(dir, "r.json"))
	require.Equal(t, verdictInterrupted, r.Verdict, out.String())
	require.Equal(t, 130, r.Exit)
	require.Equal(t, "exec", r.Stack.Name)
	require.Equal(t, uint64(1), r.Seed)
	require.Equal(t, r.Counts.Checks, r.Statistics.Sequences)
}

// reportFields lists the JSON field names of t, as paths ("a.b[].c").
func reportFields(prefix string, t reflect.Type) []string {
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice {
		if t.Kind() == reflect.Slice {
			prefix += "[]"
		}
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return nil
	}
	var out []string
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "" || name == "-" {
			continue
		}
		p := name
		if prefix != "" {
			p = prefix + "." + name
		}
		out = append(out, p)
		out = append(out, reportFields(p, f.Type)...)
	}
	return out
}

// TestReportSchemaFields is the golden list of the report's field names:
// a rename, a removal or an addition fails it. A change of meaning or a
// removal is a new ReportSchema; the README documents each field.
func TestReportSchemaFields(t *testing.T) {
	want := `schema command verdict exit error kb287032
stack stack.name stack.doc stack.exec stack.vs
config config.checks config.steps config.adapters config.promote config.keep_addr_on_down config.families config.attrs config.ops config.exclude
seed reproduce
counts counts.checks counts.steps counts.divergences counts.flaky counts.shrinks counts.elapsed_ms
statistics statistics.sequences statistics.ops statistics.excluded
statistics.sequence_length statistics.sequence_length.min statistics.sequence_length.median statistics.sequence_length.max
statistics.sequence_lengths statistics.sequence_lengths[].length statistics.sequence_lengths[].sequences
statistics.kinds statistics.kinds[].kind statistics.kinds[].lifecycle statistics.kinds[].ops statistics.kinds[].ipv4 statistics.kinds[].ipv6
statistics.kinds[].results statistics.kinds[].results[].result statistics.kinds[].results[].ops
statistics.kinds[].invalid statistics.kinds[].excluded statistics.kinds[].on_addresses
statistics.results statistics.results[].result statistics.results[].ops
statistics.prefix_lengths statistics.prefix_lengths[].family statistics.prefix_lengths[].length statistics.prefix_lengths[].ops
statistics.adds statistics.adds_existing statistics.shared_subnet_sequences statistics.shared_subnet_steps statistics.most_adapters_sharing
statistics.primaries_deleted statistics.secondaries_promoted statistics.secondaries_deleted
statistics.lifecycle statistics.lifecycle_on_addresses statistics.invalid statistics.most_addresses
statistics.route_gateway_off_link_steps statistics.route_src_deleted statistics.route_src_cleared
statistics.route_collision_steps statistics.route_collision_sequences statistics.most_user_routes
divergence divergence.reproduced divergence.reference divergence.failed divergence.aspects divergence.adapters divergence.promote divergence.keep_addr_on_down divergence.ops
divergence.steps divergence.steps[].op divergence.steps[].model divergence.steps[].stack divergence.steps[].stack_message
divergence.steps[].differences divergence.steps[].differences[].observable divergence.steps[].differences[].missing divergence.steps[].differences[].extra
divergence.replay_error
saved saved.case saved.html`
	require.Equal(t, strings.Fields(want), reportFields("", reflect.TypeOf(Report{})))
	require.Equal(t, "routefuzz-report/1", ReportSchema)
}

// refuses answers invalid to a delete of 10.0.0.2 (and does it), and
// counts its resets.
type refuses struct {
	sut.Stack
	resets *int
}

func (s refuses) Reset(cfg model.Config) error { *s.resets++; return s.Stack.Reset(cfg) }

func (s refuses) Apply(op model.Op) error {
	err := s.Stack.Apply(op)
	if op.Kind == model.Del && op.Prefix.Addr().String() == "10.0.0.2" {
		return model.ErrInvalid
	}
	return err
}

// Under -vs the JSON steps are check.Trace's, compared with the
// reference: the step where the program said invalid and the reference
// ok says so, naming the reference. The trace is run once, for the HTML
// and the JSON report both.
func TestReportStepsOfAPair(t *testing.T) {
	var resets int
	p, err := check.Vs("refuses", refuses{fixed.New(), &resets}, "fixed", fixed.New())
	require.NoError(t, err)
	cfg := model.Config{Adapters: []string{"a0", "a1"}}
	ops := []model.Op{model.MustParseOp("add a0 10.0.0.1/24"), model.MustParseOp("add a1 10.0.0.2/24"), model.MustParseOp("del a1 10.0.0.2/24")}
	d, err := check.Replay("refuses", p, cfg, ops, nil)
	require.NoError(t, err)
	require.NotNil(t, d)

	s := &caseSaver{dir: filepath.Join(t.TempDir(), "found"), stack: p}
	s.found(d)
	resets = 0
	capture(t, &os.Stdout, func() { s.printSaved(d) })
	r := reportRun{path: "x", saver: s}
	r.finished(props.Result{Minimal: d}, nil)
	require.Equal(t, 1, resets, "traced once for the HTML and the JSON")

	rd := r.rep.Divergence
	require.Equal(t, "fixed", rd.Reference)
	require.Empty(t, rd.ReplayError)
	require.Len(t, rd.Steps, 3)
	last := rd.Steps[2]
	require.Equal(t, "del a1 10.0.0.2/24", last.Op)
	require.Equal(t, "ok", last.Model, "the reference's result")
	require.Equal(t, "invalid", last.Stack)
	for _, st := range rd.Steps[:2] {
		require.Equal(t, "ok", st.Model)
		require.Equal(t, "ok", st.Stack)
		require.Empty(t, st.Differences)
	}

	// Where both stacks answer invalid and the model would say ok, the
	// step says invalid on both sides, not the model's ok.
	both, err := check.Vs("refuses", refuses{fixed.New(), &resets}, "refuses2", refuses{fixed.New(), &resets})
	require.NoError(t, err)
	steps, err := check.Trace("refuses", both, cfg, ops)
	rd = reportDivergence(d, true, steps, err)
	require.Len(t, rd.Steps, 3)
	require.Equal(t, ReportStep{Op: "del a1 10.0.0.2/24", Model: "invalid", Stack: "invalid", Differences: []ReportDifference{}}, rd.Steps[2])
}
