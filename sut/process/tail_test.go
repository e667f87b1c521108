package process

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// TestTail writes text in pieces cut at random (seeded) places and checks
// that the tail holds the last lines, as a plain split of the whole text
// gives them.
func TestTail(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for round := range 200 {
		var text bytes.Buffer
		for i := range r.IntN(60) {
			switch r.IntN(10) {
			case 0:
				text.WriteString("\n") // an empty line
			case 1:
				text.WriteString(strings.Repeat("y", max(0, partBytes*r.IntN(3)+r.IntN(3)-1)) + "\n") // cut into pieces
			case 2:
				fmt.Fprintf(&text, "line %d\r\n", i)
			default:
				fmt.Fprintf(&text, "line %d %s\n", i, strings.Repeat("é", r.IntN(300)))
			}
		}
		switch r.IntN(3) {
		case 0:
			text.WriteString("unfinished")
		case 1:
			text.WriteString(strings.Repeat("z", r.IntN(3*partBytes)))
		}
		var traced []string
		tl := &tail{n: stderrLines, trace: func(l string) { traced = append(traced, l) }}
		for b := text.Bytes(); len(b) > 0; {
			k := min(len(b), 1+r.IntN(2*partBytes))
			if n, err := tl.Write(b[:k]); n != k || err != nil {
				t.Fatalf("Write = %d, %v", n, err)
			}
			b = b[k:]
		}
		var want []string
		s := text.String()
		part := ""
		if i := strings.LastIndexByte(s, '\n'); i < len(s)-1 {
			s, part = s[:i+1], s[i+1:]
		}
		for _, l := range strings.SplitAfter(s, "\n") {
			if l == "" {
				continue
			}
			l = strings.TrimSuffix(strings.TrimSuffix(l, "\n"), "\r")
			for len(l) > partBytes {
				want = append(want, l[:partBytes])
				l = l[partBytes:]
			}
			want = append(want, l)
		}
		wantTraced := make([]string, len(want))
		for i, l := range want {
			wantTraced[i] = "! " + l
		}
		for len(part) > partBytes {
			want = append(want, part[:partBytes])
			wantTraced = append(wantTraced, "! "+part[:partBytes])
			part = part[partBytes:]
		}
		if part != "" {
			want = append(want, part)
		}
		want = want[max(0, len(want)-stderrLines):]
		for i, l := range want {
			want[i] = printable(cut([]byte(l), tailLineBytes))
		}
		if got := tl.lines(); !slices.Equal(got, want) {
			t.Fatalf("round %d: tail\n%q\nwant\n%q", round, got, want)
		}
		if !slices.Equal(traced, wantTraced) {
			t.Fatalf("round %d: traced %d lines, want %d", round, len(traced), len(wantTraced))
		}
	}
}

// TestTailLinear writes 1 MiB of 2-byte lines in one piece: the tail keeps
// only the last lines, without growing.
func TestTailLinear(t *testing.T) {
	tl := &tail{n: stderrLines}
	tl.Write(bytes.Repeat([]byte("x\n"), 1<<19))
	if got := tl.lines(); len(got) != stderrLines || got[0] != "x" || cap(tl.ring) > 2*stderrLines {
		t.Errorf("tail %q (ring capacity %d)", got, cap(tl.ring))
	}
}

func TestPrintable(t *testing.T) {
	for in, want := range map[string]string{
		"plain text":            "plain text",
		"tab\tseparated é ü ✓":  "tab\tseparated é ü ✓",
		"":                      "",
		"\x1b[31mred\x1b[0m":    `"\x1b[31mred\x1b[0m"`,
		"bell\a":                `"bell\a"`,
		"bad \xff\xfe bytes":    `"bad \xff\xfe bytes"`,
		"carriage\rreturn":      `"carriage\rreturn"`,
		"zero\u200bwidth space": `"zero\u200bwidth space"`,
	} {
		if got := printable(in); got != want {
			t.Errorf("printable(%q) = %s, want %s", in, got, want)
		}
	}
	// A line cut in the middle of a character stays valid UTF-8.
	if got := cut([]byte(strings.Repeat("é", 300)), tailLineBytes); printable(got) != got {
		t.Errorf("cut made %q", got)
	}
}
