package props

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/routefuzz/routefuzz/check"
	"github.com/routefuzz/routefuzz/model"
	"github.com/routefuzz/routefuzz/sut/legacy"
)

func TestPolish(t *testing.T) {
	var ops []model.Op
	for _, l := range []string{
		"add a2 10.0.0.9/24", "add a2 10.0.0.9/24", "add a1 2001:db8::1/64", "add a0 10.0.0.1/24",
		"add a0 10.0.0.1/24", "add a1 10.0.0.2/24", "del a2 10.0.0.9/24", "del a1 10.0.0.2/24",
	} {
		ops = append(ops, model.MustParseOp(l))
	}
	cfg := model.Config{Adapters: []string{"a0", "a1", "a2"}}
	stack := legacy.New()
	d, err := check.Replay("legacy", stack, cfg, ops, nil)
	require.NoError(t, err)
	require.NotNil(t, d)
	require.Greater(t, len(d.Ops), 3)

	p, _ := Polish(stack, d, nil, nil)
	require.NotNil(t, p)
	require.Len(t, p.Ops, 3, check.FormatOps(p.Ops))

	// An exclusion that forbids deleting from a1 must be respected: the
	// result may not contain such a delete.
	noDelA1 := func(_ *model.State, op model.Op) bool { return op.Kind == model.Del && op.Adapter == "a1" }
	if p, _ := Polish(stack, d, noDelA1, nil); p != nil {
		for _, op := range p.Ops {
			require.False(t, noDelA1(nil, op), "excluded op in polished order:\n%s", check.FormatOps(p.Ops))
		}
	}
}
