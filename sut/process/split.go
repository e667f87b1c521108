package process

import (
	"errors"
	"strings"
)

// Split splits a command line into words the way a POSIX shell does for a
// simple command, without any expansion: words are separated by unquoted
// spaces, tabs and newlines; 'single quotes' keep everything literally;
// "double quotes" keep everything but a backslash before \ " $ ` or a
// newline; outside quotes a backslash keeps the next character. There are
// no variables, globs, redirections or pipes: for those, run the shell
// yourself, as in sh -c 'exec ./mystack 2>>stack.log'.
func Split(cmdline string) ([]string, error) {
	var (
		words []string
		w     strings.Builder
		inW   bool // a word has started, possibly empty ('')
	)
	rs := []rune(cmdline)
	for i := 0; i < len(rs); i++ {
		c := rs[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n':
			if inW {
				words = append(words, w.String())
				w.Reset()
				inW = false
			}
		case c == '\\':
			inW = true
			if i+1 == len(rs) {
				return nil, errors.New("command line ends with a lone backslash")
			}
			i++
			if rs[i] != '\n' { // backslash-newline joins lines
				w.WriteRune(rs[i])
			}
		case c == '\'':
			inW = true
			j := i + 1
			for j < len(rs) && rs[j] != '\'' {
				j++
			}
			if j == len(rs) {
				return nil, errors.New("command line has an unterminated ' quote")
			}
			w.WriteString(string(rs[i+1 : j]))
			i = j
		case c == '"':
			inW = true
			j := i + 1
			for ; j < len(rs) && rs[j] != '"'; j++ {
				if rs[j] == '\\' && j+1 < len(rs) && strings.ContainsRune("\\\"$`\n", rs[j+1]) {
					j++
					if rs[j] != '\n' {
						w.WriteRune(rs[j])
					}
					continue
				}
				w.WriteRune(rs[j])
			}
			if j == len(rs) {
				return nil, errors.New(`command line has an unterminated " quote`)
			}
			i = j
		default:
			inW = true
			w.WriteRune(c)
		}
	}
	if inW {
		words = append(words, w.String())
	}
	if len(words) == 0 {
		return nil, errors.New("command line is empty")
	}
	return words, nil
}

// Quote returns word quoted so that Split reads it back as one word, for
// building command lines from file names.
func Quote(word string) string {
	if word != "" && strings.IndexFunc(word, func(c rune) bool {
		return !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("-_./=:,+@%", c))
	}) < 0 {
		return word
	}
	return "'" + strings.ReplaceAll(word, "'", `'\''`) + "'"
}
