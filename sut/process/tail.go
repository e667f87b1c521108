package process

import (
	"bytes"
	"strconv"
	"sync"
	"unicode"
	"unicode/utf8"
)

// The program's standard error is read in linear time and only its end
// is kept: a ring of the last lines, each cut to tailLineBytes, and the
// unfinished line, cut into pieces of partBytes.
const (
	tailLineBytes = 500
	partBytes     = 4096
)

// tail keeps the last n lines written to it.
type tail struct {
	n     int
	trace func(string)
	mu    sync.Mutex
	ring  []string // at most n lines; the oldest at head once full
	head  int
	part  []byte // the unfinished line
}

func (t *tail) Write(b []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := len(b)
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n')
		seg := b
		if i >= 0 {
			seg = b[:i]
		}
		// A line longer than partBytes is cut into pieces.
		for len(seg) > 0 {
			if len(t.part) == partBytes {
				t.push(t.part)
				t.part = t.part[:0]
			}
			k := min(len(seg), partBytes-len(t.part))
			t.part = append(t.part, seg[:k]...)
			seg = seg[k:]
		}
		if i < 0 {
			break
		}
		t.push(t.part)
		t.part = t.part[:0]
		b = b[i+1:]
	}
	return n, nil
}

func (t *tail) push(b []byte) {
	b = bytes.TrimRight(b, "\r")
	if t.trace != nil {
		t.trace("! " + printable(string(b)))
	}
	l := cut(b, tailLineBytes)
	if len(t.ring) < t.n {
		t.ring = append(t.ring, l)
		return
	}
	t.ring[t.head] = l
	t.head = (t.head + 1) % t.n
}

// lines returns the last lines, the unfinished one included, oldest
// first, each made printable.
func (t *tail) lines() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	ls := make([]string, 0, len(t.ring)+1)
	ls = append(ls, t.ring[t.head:]...)
	ls = append(ls, t.ring[:t.head]...)
	if len(t.part) > 0 {
		ls = append(ls, cut(t.part, tailLineBytes))
	}
	ls = ls[max(0, len(ls)-t.n):]
	for i, l := range ls {
		ls[i] = printable(l)
	}
	return ls
}

// cut returns b as a string of at most n bytes (and an ellipsis), cut at
// the start of a character.
func cut(b []byte, n int) string {
	if len(b) <= n {
		return string(b)
	}
	for n > 0 && !utf8.RuneStart(b[n]) {
		n--
	}
	return string(b[:n]) + "…"
}

// printable returns s unchanged when it is valid UTF-8 and every
// character in it is printable (tabs included), and otherwise quoted as
// strconv.Quote does, so that text from the program never reaches a
// terminal as escape sequences or invalid bytes.
func printable(s string) string {
	for _, c := range s {
		if c == utf8.RuneError || c != '\t' && !unicode.IsPrint(c) {
			return strconv.Quote(s)
		}
	}
	return s
}
