package corpus

import (
	"fmt"
	"strings"

	"github.com/routefuzz/routefuzz/check"
)

// A pair case records a divergence between two stacks, found by
// `routefuzz check -sut A -vs B` with no model in between. Its verdicts
// name pairs, "STACK-vs-REF" (check.PairName):
//
//	diverges: legacy-vs-fixed
//
// says that legacy, compared with fixed after every op, must still
// diverge from it. A pair case is replayed only as the pairs it names,
// never against the model on a single stack (where what it shows may be
// no divergence at all, or another one), so its verdicts name pairs only,
// and no stack is expected to agree with the model on it. Its want
// sections still record the model's values, for review.

// SplitPair splits a pair's name, "legacy-vs-fixed", into the stack and
// its reference; ok is false for the name of a single stack.
func SplitPair(name string) (stack, ref string, ok bool) {
	stack, ref, ok = strings.Cut(name, "-vs-")
	return stack, ref, ok && stack != "" && ref != ""
}

// IsPair reports whether c is a pair case: its verdicts name pairs.
func (c *Case) IsPair() bool {
	for _, n := range c.Named() {
		if _, _, ok := SplitPair(n); ok {
			return true
		}
	}
	return false
}

// checkPairs reports a case whose verdicts name both pairs and single
// stacks.
func (c *Case) checkPairs() error {
	var pairs, single []string
	for _, n := range c.Named() {
		if _, _, ok := SplitPair(n); ok {
			pairs = append(pairs, n)
		} else {
			single = append(single, n)
		}
	}
	if len(pairs) > 0 && len(single) > 0 {
		return fmt.Errorf("verdicts name pairs (%s) and single stacks (%s): a pair case is replayed only as its pairs, so it names pairs only", strings.Join(pairs, " "), strings.Join(single, " "))
	}
	return nil
}

// verdictName is the name a case's verdict gives the stack of d: the
// stack, or the pair "STACK-vs-REF" when d compared it with a reference
// stack.
func verdictName(d *check.Divergence) string {
	if d.Ref != "" {
		return check.PairName(d.SUT, d.Ref)
	}
	return d.SUT
}

// pairSkip says why case c is not replayed on name (a stack or a pair), or
// "".
func pairSkip(c *Case, name string) string {
	_, _, pair := SplitPair(name)
	switch {
	case c.IsPair() && !pair:
		return fmt.Sprintf("a pair case (%s): replayed only as its pairs, not against the model", strings.Join(c.Named(), " "))
	case !c.IsPair() && pair:
		return "a case against the model: not replayed on a pair"
	}
	return ""
}

// reference names what the stack of name is compared with: "the model",
// or a pair's reference.
func reference(name string) string {
	if _, ref, ok := SplitPair(name); ok {
		return ref
	}
	return "the model"
}

// firstVerdictLine returns the line of the first verdict directive.
func (c *Case) firstVerdictLine() int {
	first := 0
	for _, v := range verdicts {
		if n := c.lines[v.key]; n > 0 && (first == 0 || n < first) {
			first = n
		}
	}
	return first
}
