package main

import (
	"fmt"

	"github.com/routefuzz/routefuzz/check"
	"github.com/routefuzz/routefuzz/model"
)

// cmdHunt is the newcomer's first command: search the legacy stack, show
// the minimal failing order, and say whether KB287032 was reproduced.
func cmdHunt(args []string) int {
	fs := newFlagSet("hunt")
	var f checkFlags
	f.register(fs, "legacy")
	f.rep.command = "hunt"
	fs.Lookup("save").DefValue = "out/found"
	f.save = "out/found"
	if err := fs.Parse(args); err != nil {
		return exitError
	}
	if fs.NArg() > 0 {
		return f.rep.write(errorf("hunt: unexpected argument %q (flags only; see routefuzz hunt -h)", fs.Arg(0)))
	}
	if f.vs != "" {
		return f.rep.write(errorf("hunt: -vs is for check: routefuzz check -sut %s -vs %s", f.name, f.vs))
	}
	return f.rep.write(huntVerdict(&f))
}

// huntVerdict runs the hunt and returns its exit status.
func huntVerdict(f *checkFlags) int {
	res, code := runCheck(f)
	if code == exitError {
		return code
	}
	if res.Flaky {
		return exitFlaky
	}
	if res.Minimal == nil {
		fmt.Printf("routefuzz: %s agreed with the model in every check: KB287032 NOT reproduced\n", f.name)
		return exitDiverged
	}
	if !kbShaped(res.Minimal) {
		fmt.Printf("routefuzz: %s diverges from the model, but not as KB287032 does (a delete on one of several adapters leaving the routes wrong): KB287032 NOT reproduced\n", f.name)
		return exitDiverged
	}
	yes := true
	f.rep.kb = &yes
	fmt.Printf("routefuzz: KB287032 reproduced on %s: removing addresses in another order than they were added leaves the route table wrong (%d ops)\n", f.name, len(res.Minimal.Ops))
	return exitOK
}

// kbShaped reports whether d has KB287032's shape: on a multihomed host,
// deleting an address leaves the route table wrong.
func kbShaped(d *check.Divergence) bool {
	if d.Failed != "" || len(d.Ops) == 0 || d.Ops[len(d.Ops)-1].Kind != model.Del || d.Aspects()&check.Routes.Aspect() == 0 {
		return false
	}
	adapters := map[string]bool{}
	for _, op := range d.Ops {
		adapters[op.Adapter] = true
	}
	return len(adapters) > 1
}
