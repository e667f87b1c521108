package corpus

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/routefuzz/routefuzz/check"
	"github.com/routefuzz/routefuzz/model"
	"github.com/routefuzz/routefuzz/sut"
	"github.com/routefuzz/routefuzz/sut/fixed"
	"github.com/routefuzz/routefuzz/sut/legacy"
)

const kbOps = "-- ops --\nadd a0 10.0.0.1/24\nadd a1 10.0.0.2/24\ndel a1 10.0.0.2/24\n"

// A byte-order mark at the start of a file is ignored: the directive on
// the first line still counts. Anywhere else it is an error.
func TestBOM(t *testing.T) {
	for _, s := range []string{
		"\ufeffpromote: on\n" + kbOps,
		"\ufeffpromote: on\r\n" + strings.ReplaceAll(kbOps, "\n", "\r\n"),
		"\ufeff# commentary first\npromote: on\n" + kbOps,
	} {
		c, err := Parse("bom.txtar", []byte(s))
		if err != nil {
			t.Fatalf("%q: %v", s, err)
		}
		if !c.Promote {
			t.Errorf("%q: the directive after the byte-order mark was lost", s)
		}
		if strings.Contains(c.Comment, "\ufeff") || strings.Contains(string(c.Format()), "\ufeff") {
			t.Errorf("%q: the byte-order mark was kept", s)
		}
	}
	_, err := Parse("bom.txtar", []byte("# x\n\ufeffpromote: on\n"+kbOps))
	if err == nil || !strings.Contains(err.Error(), "bom.txtar:2: ") {
		t.Errorf("a byte-order mark on line 2 is not an error at line 2: %v", err)
	}
}

// A directive given twice is an error at the second, whatever the values.
func TestRepeatedDirective(t *testing.T) {
	for _, s := range []string{
		"promote: on\npromote: off\n",
		"promote: on\npromote: on\n",
		"adapters: a0 a1\n# between\nadapters: a0 a1\n",
		"diverges: legacy\n\n  diverges: linux\n",
	} {
		_, err := Parse("x.txtar", []byte(s+kbOps))
		key, _, _ := strings.Cut(s, ":")
		want := "x.txtar:" + fmt.Sprint(strings.Count(strings.TrimSuffix(s, "\n"), "\n")+1) + ": " + key + ": repeated (first at line 1)"
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: want %q, got %v", s, want, err)
		}
	}
}

// Commentary is any header line whose first non-blank character is '#';
// whatever it says, it is not a directive.
func TestCommentaryStaysCommentary(t *testing.T) {
	s := "# promote: on\n  #diverges: legacy\n\n# Promote: on, see: below\n" + kbOps
	c, err := Parse("x.txtar", []byte(s))
	if err != nil {
		t.Fatal(err)
	}
	if c.Promote || len(c.Named()) > 0 {
		t.Errorf("commentary taken for a directive: %+v", c)
	}
	// Format writes commentary that lacks its '#' as commentary.
	c.Comment += "\nno hash here: promote: on"
	again, err := Parse("x.txtar", c.Format())
	if err != nil {
		t.Fatalf("reparsing Format: %v\n%s", err, c.Format())
	}
	if again.Promote || !strings.Contains(again.Comment, "# no hash here") {
		t.Errorf("Format did not keep the comment as commentary:\n%s", c.Format())
	}
}

func legacyDivergence(t *testing.T) *check.Divergence {
	t.Helper()
	c, err := Parse("kb.txtar", []byte(kbOps))
	if err != nil {
		t.Fatal(err)
	}
	d, err := check.Replay("legacy", legacy.New(), c.Config(), c.Ops, nil)
	if err != nil || d == nil {
		t.Fatalf("legacy does not diverge on the KB case: %v", err)
	}
	return d
}

// withFailed returns a copy of d as a stack that crashed or hung on its
// last op reports it: the model's tables only.
func withFailed(d *check.Divergence, sutName, failed, msg string) *check.Divergence {
	e := *d
	e.SUT, e.Failed, e.GotMsg = sutName, failed, msg
	e.GotResult = e.WantResult
	e.Observed = slices.Clone(e.Observed)
	for i := range e.Observed {
		e.Observed[i].Got = e.Observed[i].Want
	}
	return &e
}

// Each verdict gives its header and its file name, survives Format and
// Parse, and CheckName holds the name to it, and no other.
func TestVerdicts(t *testing.T) {
	d := legacyDivergence(t)
	for _, tc := range []struct {
		c      *Case
		header string
		suffix string
		expect Expectation
	}{
		{FromDivergence(d, "# found"), "diverges: legacy", "-legacy-bad.txtar", ExpectDivergence},
		{FromDivergence(withFailed(d, "exec", "crash", "boom"), "# found"), "crashes: exec", "-exec-crash.txtar", ExpectCrash},
		{FromDivergence(withFailed(d, "exec", "hang", ""), "# found"), "hangs: exec", "-exec-hang.txtar", ExpectHang},
		{FromFlaky(d, "# found; replayed 5 times, agreed every time"), "flaky: legacy", "-legacy-flaky.txtar", ExpectFlaky},
	} {
		t.Run(tc.suffix, func(t *testing.T) {
			text := string(tc.c.Format())
			if !strings.Contains(text, "\n"+tc.header+"\n") || strings.Count(text, ": legacy\n")+strings.Count(text, ": exec\n") != 1 {
				t.Errorf("want exactly the verdict %q:\n%s", tc.header, text)
			}
			if !strings.HasSuffix(tc.c.FileName(), tc.suffix) {
				t.Errorf("FileName %s, want it to end in %s", tc.c.FileName(), tc.suffix)
			}
			dir := t.TempDir()
			path, err := Save(dir, tc.c)
			if err != nil {
				t.Fatal(err)
			}
			cs, err := Load(dir)
			if err != nil {
				t.Fatal(err)
			}
			got := cs[0]
			if err := got.CheckName(); err != nil {
				t.Error(err)
			}
			if got.Expect(d.SUT) != tc.expect && got.Expect("exec") != tc.expect {
				t.Errorf("read back with the wrong verdict:\n%s", got.Format())
			}
			if got.FileName() != filepath.Base(path) || string(got.Format()) != text {
				t.Errorf("not stable through Save and Load:\n%s\n---\n%s", text, got.Format())
			}
			// Every other verdict's name is refused.
			for _, v := range []string{"-ok", "-legacy-bad", "-exec-crash", "-exec-hang", "-legacy-flaky"} {
				if strings.HasSuffix(tc.suffix, v+".txtar") {
					continue
				}
				got.Path = "x" + v + ".txtar"
				if got.CheckName() == nil {
					t.Errorf("a %s case named %s passes CheckName", tc.header, got.Path)
				}
			}
		})
	}
}

// CheckName with several verdicts: the name ends with the last, mentions
// each and every stack, and claims none it does not have.
func TestCheckNameSeveralVerdicts(t *testing.T) {
	c := &Case{Diverges: []string{"legacy", "linux"}, Hangs: []string{"exec"}}
	if v := c.Verdict(); v != "legacy+linux-bad-exec-hang" {
		t.Errorf("Verdict %q", v)
	}
	for name, ok := range map[string]bool{
		"x-legacy+linux-bad-exec-hang.txtar":       true,
		"linux-legacy-bad-exec-hang.txtar":         true,
		"x-legacy-bad-exec-hang.txtar":             false, // linux not mentioned
		"x-legacy+linux-exec-hang.txtar":           false, // no -bad
		"x-exec-hang-legacy+linux-bad.txtar":       false, // not ending with the last
		"x-legacy+linux-bad-exec-crash-hang.txtar": false, // claims a crash
		"x-legacy+linux-bad-exec-hang-ok.txtar":    false,
	} {
		c.Path = name
		if err := c.CheckName(); (err == nil) != ok {
			t.Errorf("%s: CheckName = %v, want ok=%v", name, err, ok)
		}
	}
}

// A crash case's header quotes what the program said, control characters
// and all, as commentary that cannot break the file.
func TestCrashHeaderQuotesTheProgram(t *testing.T) {
	d := withFailed(legacyDivergence(t), "exec", "crash", "exited with status 3; stderr:\n\x1b[31mpanic\x1b[0m: \xff\npromote: on")
	c := FromDivergence(d, "# found")
	again, err := Parse("x.txtar", c.Format())
	if err != nil {
		t.Fatalf("%v\n%s", err, c.Format())
	}
	if again.Promote || strings.ContainsAny(again.Comment, "\x1b\xff") || !strings.Contains(again.Comment, `\x1b[31mpanic`) {
		t.Errorf("the program's words are not quoted commentary:\n%s", c.Format())
	}
	if !strings.Contains(again.Comment, "exec: crashed on the last op (del a1 10.0.0.2/24)") {
		t.Errorf("the header does not say where it crashed:\n%s", c.Format())
	}
}

// Judge holds each outcome to each expectation.
func TestJudge(t *testing.T) {
	div := legacyDivergence(t)
	div.SUT = "s"
	crash := withFailed(div, "s", "crash", "gone")
	hang := withFailed(div, "s", "hang", "")
	outcomes := map[string]*check.Divergence{"agree": nil, "diverge": div, "crash": crash, "hang": hang}
	for _, tc := range []struct {
		header string
		holds  []string // the outcomes that hold
	}{
		{"", []string{"agree"}},
		{"diverges: s", []string{"diverge"}},
		{"crashes: s", []string{"crash"}},
		{"hangs: s", []string{"hang"}},
	} {
		c, err := Parse("j.txtar", []byte(tc.header+"\n"+kbOps))
		if err != nil {
			t.Fatal(err)
		}
		for name, d := range outcomes {
			err := c.Judge("s", d)
			if slices.Contains(tc.holds, name) != (err == nil) {
				t.Errorf("%q, outcome %s: Judge = %v", tc.header, name, err)
			}
			if err != nil && (errors.Is(err, ErrFlaky) || errors.Is(err, ErrSkip) || errors.Is(err, ErrHarness)) {
				t.Errorf("%q, outcome %s: a failure passes for something else: %v", tc.header, name, err)
			}
			if err != nil && !strings.Contains(err.Error(), "j.txtar") {
				t.Errorf("%q, outcome %s: the error does not say where: %v", tc.header, name, err)
			}
		}
	}
	// A flaky case never fails; it says how it went.
	c, err := Parse("j.txtar", []byte("flaky: s\n"+kbOps))
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{
		"agree":   "agreed with the model this time",
		"diverge": "diverges from the model in routes+lookups again, at j.txtar:5",
		"crash":   "crashed on op 3 again, at j.txtar:5",
	} {
		err := c.Judge("s", outcomes[name])
		if !errors.Is(err, ErrFlaky) || !strings.Contains(err.Error(), want) {
			t.Errorf("flaky, outcome %s: want ErrFlaky saying %q, got %v", name, want, err)
		}
	}
	// Other stacks must agree on a flaky case.
	if err := c.Judge("other", div); err == nil || errors.Is(err, ErrFlaky) {
		t.Errorf("a stack the flaky directive does not name diverges, yet Judge = %v", err)
	}
}

// picky is the fixed stack, except that its Reset refuses an adapter
// named lo as the kernel does, and it crashes on deleting 10.0.0.2.
type picky struct{ *fixed.Stack }

func (p picky) Reset(cfg model.Config) error {
	if slices.Contains(cfg.Adapters, "lo") {
		return fmt.Errorf("adapter name %q is the loopback device: %w", "lo", sut.ErrUnsupported)
	}
	return p.Stack.Reset(cfg)
}

func (p picky) Apply(op model.Op) error {
	if op.Kind == model.Del && op.Prefix.Addr().String() == "10.0.0.2" {
		return fmt.Errorf("program exited with status 2: %w", sut.ErrCrash)
	}
	return p.Stack.Apply(op)
}

// A case whose configuration the stack's Reset refuses with
// sut.ErrUnsupported is skipped, with the reason, and the stack goes on
// to run the next case.
func TestVerifySkipsUnsupported(t *testing.T) {
	stack := picky{fixed.New()}
	lo, err := Parse("lo-ok.txtar", []byte("adapters: lo\n-- ops --\nadd lo 10.0.0.1/24\n"))
	if err != nil {
		t.Fatal(err)
	}
	err = Verify(lo, "picky", stack, nil)
	if !errors.Is(err, ErrSkip) || errors.Is(err, ErrHarness) || !strings.Contains(err.Error(), "loopback") || !strings.Contains(err.Error(), "lo-ok.txtar") {
		t.Fatalf("want a skip that says why, got %v", err)
	}
	ok, err := Parse("a0-ok.txtar", []byte("-- ops --\nadd a0 10.0.0.1/24\n"))
	if err != nil {
		t.Fatal(err)
	}
	if err := Verify(ok, "picky", stack, nil); err != nil {
		t.Fatalf("the next case: %v", err)
	}
}

// A crash is a divergence to replay (check.Run.Step reports it with
// Failed set): a crashes: case holds, a must-agree case fails, and the
// minimizer shrinks a crash to orders that crash on the same kind of op.
func TestCrashReplayAndMinimize(t *testing.T) {
	stack := picky{fixed.New()}
	c, err := Parse("c.txtar", []byte("crashes: picky\n-- ops --\nadd a0 10.0.0.9/24 metric 3\nadd a1 10.0.0.2/24\nadd a0 10.0.0.3/24\ndel a1 10.0.0.2/24\n"))
	if err != nil {
		t.Fatal(err)
	}
	d, err := Replay(c, "picky", stack, nil)
	if errors.Is(err, sut.ErrCrash) {
		t.Skip("check.Run.Step does not yet report a crash as a divergence (Divergence.Failed)")
	}
	if err != nil || d == nil || d.Failed != "crash" {
		t.Fatalf("want a crash divergence, got %v %v", d, err)
	}
	if err := Verify(c, "picky", stack, nil); err != nil {
		t.Errorf("crashes: picky does not hold: %v", err)
	}
	c.Crashes = nil
	if err := Verify(c, "picky", stack, nil); err == nil || !strings.Contains(err.Error(), "picky crashed on op 4") {
		t.Errorf("a must-agree case that crashes: %v", err)
	}
	_, min, _ := Minimize(d.Config, d.Ops, SameFailureAs("picky", stack, d))
	if got := opLines(min); got != "del a0 10.0.0.2/24\n" {
		t.Errorf("minimized to\n%s", got)
	}
}

// SameFailureAs keeps a crash on the same kind of op: an order that
// crashes on an add does not stand for one that crashes on a delete.
func TestSameFailureAsKeepsTheOpKind(t *testing.T) {
	var d check.Divergence
	d.SUT, d.Failed = "s", "crash"
	d.Config = model.Config{Adapters: []string{"a0"}}
	d.Ops = []model.Op{model.MustParseOp("add a0 10.0.0.1/24"), model.MustParseOp("del a0 10.0.0.1/24")}
	stack := crashOnAny{fixed.New()}
	fails := SameFailureAs("s", stack, &d)
	if _, err := check.Replay("s", stack, d.Config, d.Ops[:1], nil); errors.Is(err, sut.ErrCrash) {
		t.Skip("check.Run.Step does not yet report a crash as a divergence (Divergence.Failed)")
	}
	if fails(d.Config, d.Ops[:1]) {
		t.Error("a crash on an add stands for a crash on a delete")
	}
	if !fails(d.Config, d.Ops[1:]) {
		t.Error("a crash on a delete does not stand for a crash on a delete")
	}
}

// crashOnAny crashes on every op.
type crashOnAny struct{ *fixed.Stack }

func (crashOnAny) Apply(model.Op) error { return fmt.Errorf("died: %w", sut.ErrCrash) }

// Saved files are 0644, whatever the temporary file was.
func TestWriteFileMode(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "x.txtar")
	if err := WriteFile(path, []byte("one\n")); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(path, []byte("two\n")); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o644 {
		t.Errorf("mode %v, want 0644", fi.Mode().Perm())
	}
	if b, _ := os.ReadFile(path); string(b) != "two\n" {
		t.Errorf("content %q", b)
	}
	c, err := Parse("k.txtar", []byte(kbOps))
	if err != nil {
		t.Fatal(err)
	}
	p, err := Save(dir, c)
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(p); err != nil || fi.Mode().Perm() != 0o644 {
		t.Errorf("Save: mode %v, %v", fi.Mode().Perm(), err)
	}
	onlyFiles(t, dir, "x.txtar", filepath.Base(p))
}

// A failed write leaves nothing behind and what was there untouched.
func TestWriteFileFailure(t *testing.T) {
	dir := t.TempDir()
	// The target is a directory: the rename fails after the data is written.
	sub := filepath.Join(dir, "taken")
	if err := os.MkdirAll(filepath.Join(sub, "inside"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(sub, []byte("data")); err == nil {
		t.Fatal("no error writing over a directory")
	}
	onlyFiles(t, dir, "taken")
	if err := WriteFile(filepath.Join(dir, "no", "such", "dir"), []byte("data")); err == nil {
		t.Fatal("no error writing into a missing directory")
	}
	onlyFiles(t, dir, "taken")
}

// On a full disk, the error says so, and neither an empty nor a partial
// file is left; a file already there keeps its content. Needs root, to
// mount a small tmpfs.
func TestWriteFileFullDisk(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to mount a small tmpfs")
	}
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size=64k"); err != nil {
		t.Skipf("cannot mount a tmpfs: %v", err)
	}
	t.Cleanup(func() { syscall.Unmount(dir, syscall.MNT_DETACH) })
	path := filepath.Join(dir, "case.txtar")
	if err := WriteFile(path, []byte("old\n")); err != nil {
		t.Fatal(err)
	}
	err := WriteFile(path, make([]byte, 1<<20))
	if !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("want ENOSPC, got %v", err)
	}
	if !strings.Contains(err.Error(), path) {
		t.Errorf("the error does not name the file: %v", err)
	}
	onlyFiles(t, dir, "case.txtar")
	if b, _ := os.ReadFile(path); string(b) != "old\n" {
		t.Errorf("the file already there was changed: %q", b)
	}
	c, err := Parse("k.txtar", []byte(kbOps))
	if err != nil {
		t.Fatal(err)
	}
	c.Comment = "# " + strings.Repeat("x", 1<<17)
	if _, err := Save(dir, c); !errors.Is(err, syscall.ENOSPC) {
		t.Errorf("Save on a full disk: want ENOSPC, got %v", err)
	}
	onlyFiles(t, dir, "case.txtar")
}

// onlyFiles fails unless dir holds exactly the named entries.
func onlyFiles(t *testing.T, dir string, names ...string) {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range es {
		got = append(got, e.Name())
	}
	slices.Sort(got)
	slices.Sort(names)
	if !slices.Equal(got, names) {
		t.Errorf("%s holds %q, want %q", dir, got, names)
	}
}

// broken fails outside its semantics on every op.
type broken struct{ *fixed.Stack }

func (broken) Apply(model.Op) error { return errors.New("netlink: connection reset") }

// A stack that fails outside its semantics is a harness failure, never a
// failed case.
func TestVerifyHarnessFailure(t *testing.T) {
	c, err := Parse("k-ok.txtar", []byte(kbOps))
	if err != nil {
		t.Fatal(err)
	}
	err = Verify(c, "broken", broken{fixed.New()}, nil)
	if !errors.Is(err, ErrHarness) || !strings.Contains(err.Error(), "connection reset") {
		t.Fatalf("want ErrHarness, got %v", err)
	}
}

// breaks: takes STACK:RELATION entries of known relations, and a relation
// case has no other verdict and names no pair.
func TestBreaksDirective(t *testing.T) {
	for _, c := range []struct{ header, want string }{
		{"breaks: legacy\n", `breaks: want STACK:RELATION, not "legacy"`},
		{"breaks: legacy:nope\n", `unknown relation "nope"`},
		{"breaks: legacy:undo\ndiverges: fixed\n", "give it no other verdict"},
		{"breaks: legacy-vs-fixed:undo\n", "names a pair"},
		{"breaks: legacy:undo fixed:undo\n", ""},
	} {
		_, err := Parse("x.txtar", []byte(c.header+"-- ops --\nadd a0 10.0.0.1/24\n"))
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%q: %v", c.header, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%q: got %v, want %q", c.header, err, c.want)
		}
	}
	cs, err := Parse("kb-legacy-undo-breaks.txtar", []byte("breaks: legacy:undo\n-- ops --\nadd a0 10.0.0.1/24\n"))
	if err != nil {
		t.Fatal(err)
	}
	if cs.Expect("legacy") != ExpectBreak || cs.BrokenBy("legacy") != "undo" || cs.Expect("fixed") != ExpectAgree || !cs.IsRelation() {
		t.Errorf("expectations: %v %q %v", cs.Expect("legacy"), cs.BrokenBy("legacy"), cs.Expect("fixed"))
	}
	if err := cs.CheckName(); err != nil {
		t.Error(err)
	}
	if v := cs.Verdict(); v != "legacy-undo-breaks" {
		t.Errorf("verdict %q", v)
	}
}
