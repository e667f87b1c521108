package main

import (
	"flag"
	"fmt"
	"math"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/routefuzz/routefuzz/corpus"
	"github.com/routefuzz/routefuzz/exhaust"
	"github.com/routefuzz/routefuzz/internal/interrupt"
	"github.com/routefuzz/routefuzz/model"
	"github.com/routefuzz/routefuzz/stacks"
	"github.com/routefuzz/routefuzz/sut"
)

// valuesFlag collects -values NAME=V[/W],...: the values of one leading
// address attribute (V/W for an attribute that goes with another:
// valid_lft=600/300).
type valuesFlag map[*model.Attr][]exhaust.AttrValue

func (v valuesFlag) String() string { return "" }

func (v valuesFlag) Set(s string) error {
	name, list, ok := strings.Cut(s, "=")
	if !ok {
		return fmt.Errorf("want NAME=V,... not %q", s)
	}
	var attr *model.Attr
	var names []string
	for _, a := range model.Attrs() {
		if a.Leads() {
			names = append(names, a.Name)
			if a.Name == name {
				attr = a
			}
		}
	}
	if attr == nil {
		return fmt.Errorf("unknown attribute %q (want %s)", name, strings.Join(names, ", "))
	}
	for _, f := range strings.Split(list, ",") {
		first, second, paired := strings.Cut(f, "/")
		if paired != (attr.With != nil) {
			if attr.With != nil {
				return fmt.Errorf("%s goes with %s: want %s=V/W", attr.Name, attr.With.Name, attr.Name)
			}
			return fmt.Errorf("%s takes one value, not %q", attr.Name, f)
		}
		var x exhaust.AttrValue
		n, err := strconv.ParseUint(first, 10, 32)
		if err != nil {
			return fmt.Errorf("bad %s value %q", attr.Name, first)
		}
		x.Value = uint32(n)
		if paired {
			m, err := strconv.ParseUint(second, 10, 32)
			if err != nil {
				return fmt.Errorf("bad %s value %q", attr.With.Name, second)
			}
			x.With = uint32(m)
		}
		if x != (exhaust.AttrValue{}) { // zero is absent, which every attribute takes
			v[attr] = append(v[attr], x)
		}
	}
	return nil
}

// maxExhaustDepth is the longest sequence exhaust runs: even symmetry and
// pruning leave a search of ops^depth sequences beyond it.
const maxExhaustDepth = 12

// cmdExhaust runs every op sequence of a small universe up to a depth,
// shortest first, and reports the shortest divergence, or proves there is
// none within the depth.
func cmdExhaust(args []string) int {
	fs := newFlagSet("exhaust")
	var sf stackFlags
	sf.register(fs, "")
	depth := fs.Int("depth", 0, "longest sequence to try, at most 12 (0: 3, or with -case the case's length)")
	caseFile := fs.String("case", "", "take the universe from this corpus case: its adapters, settings, prefixes, kinds and attribute values (with -depth N-1: prove no order shorter than the case's N ops diverges)")
	adapters := fs.Int("adapters", 2, "adapters (a0, a1, ...)")
	promote := fs.String("promote", "off", "IPv4 promote_secondaries: on or off")
	keep := fs.String("keep-addr-on-down", "off", "IPv6 keep_addr_on_down: on or off")
	prefixList := fs.String("prefixes", "10.0.0.1/24,10.0.0.2/24,10.0.0.255/24", "comma-separated ADDRESS/LENGTH the prefix operands take")
	dstList := fs.String("dsts", "", "comma-separated route destinations the route ops take (default, 0.0.0.0/0, 198.51.100.0/24, ::/0, ...); none: no route ops")
	gatewayList := fs.String("gateways", "", "comma-separated gateways a route op's via takes besides none")
	sourceList := fs.String("sources", "", "comma-separated sources a route op's src takes besides none")
	kindList := fs.String("kinds", "all", "comma-separated op kinds (route kinds as route-add, route-del), or all (every kind the stack takes whose operands the universe has: the route kinds with -dsts)")
	values := valuesFlag{}
	fs.Var(values, "values", "NAME=V,... values of an address attribute besides absent (metric=100,200; noprefixroute=1; valid_lft=600/300 with preferred_lft); repeat for several")
	symmetry := fs.Bool("symmetry", true, "run one sequence per class of sequences equal up to adapter and address renaming (assumes the stack treats them alike)")
	pruneName := fs.String("prune", "repeats", "agreeing sequences not extended: off, repeats (an immediately repeated op that fails), failures (any op that fails); each assumes such an op leaves the stack as it was")
	all := fs.Bool("all", false, "run every sequence of the shortest diverging length, to count them")
	save := fs.String("save", "", "directory to write the shortest divergence to, as a corpus case")
	if err := fs.Parse(args); err != nil {
		return exitError
	}
	if fs.NArg() > 0 {
		return errorf("exhaust: unexpected argument %q (flags only; see routefuzz exhaust -h)", fs.Arg(0))
	}
	if err := sf.only(); err != nil {
		return errorf("%v", err)
	}
	prune, err := exhaust.ParsePrune(*pruneName)
	if err != nil {
		return errorf("-prune: %v", err)
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	var u exhaust.Universe
	if *caseFile != "" {
		for _, n := range []string{"adapters", "promote", "keep-addr-on-down", "prefixes", "dsts", "gateways", "sources", "kinds", "values"} {
			if set[n] {
				return errorf("exhaust: -%s and -case: the case gives the universe", n)
			}
		}
		cases, err := corpus.LoadFiles([]string{*caseFile})
		if err != nil {
			return errorf("%v", err)
		}
		c := cases[0]
		if named := c.Named(); sf.name == "" && len(named) == 1 {
			sf.name = named[0]
		}
		u = exhaust.FromCase(c)
		if *depth == 0 {
			*depth = len(c.Ops)
		}
	} else {
		if u, err = flagUniverse(*adapters, *promote, *keep, *prefixList, *kindList, routeLists{*dstList, *gatewayList, *sourceList}, values); err != nil {
			return errorf("exhaust: %v", err)
		}
	}
	if *depth == 0 {
		*depth = 3
	}
	if *depth < 1 {
		return errorf("exhaust: -depth must be at least 1, not %d", *depth)
	}
	var run atomic.Int64
	start := time.Now()
	unregister := interrupt.Register(func() {
		fmt.Printf("routefuzz: interrupted; sequences=%d (of the lengths done) elapsed=%s\n", run.Load(), time.Since(start).Round(time.Millisecond))
	})
	defer unregister()
	stack, err := sf.open()
	if err != nil {
		return errorf("%v", err)
	}
	defer stack.Close()
	if *kindList == "all" && *caseFile == "" {
		u.Kinds = nil
		l := sut.LimitsOf(stack)
		for _, sp := range model.Alphabet {
			if l.TakesKind(sp.Kind) && u.Fills(sp.Kind) {
				u.Kinds = append(u.Kinds, sp.Kind)
			}
		}
	}
	if *depth > maxExhaustDepth {
		n := len(u.Ops(sut.LimitsOf(stack)))
		from := ""
		if !set["depth"] {
			from = " (the case's length)"
		}
		return errorf("exhaust: -depth %d%s is over %d: the sequences grow as ops^depth, and this universe's %d ops make %.3g sequences of length %d, more than a search can run: give -depth %d or less",
			*depth, from, maxExhaustDepth, n, math.Pow(float64(n), float64(*depth)), *depth, maxExhaustDepth)
	}
	opts := exhaust.Options{Depth: *depth, Symmetry: *symmetry, Prune: prune, FinishLevel: *all,
		Progress: func(l exhaust.Level) {
			run.Add(int64(l.Run))
			stand := ""
			if *symmetry && l.Diverged > 0 {
				stand = fmt.Sprintf(", standing for %d", l.Represented)
			}
			fmt.Printf("length %d: %.0f sequences; %d run, %d skipped by symmetry, %d pruned; %d diverged%s (%s, %.0f sequences/s)\n",
				l.Length, l.Space, l.Run, l.Symmetric, l.Pruned, l.Diverged, stand, l.Elapsed.Round(time.Microsecond), rate(l.Run, l.Elapsed))
		}}
	fmt.Printf("routefuzz: exhaust %s (%s)\nuniverse: %s\n", sf.name, stacks.Doc(sf.name), u)
	fmt.Printf("%d ops; depth %d; symmetry=%s prune=%s\n", len(u.Ops(sut.LimitsOf(stack))), *depth, onOff(*symmetry), prune)
	res, err := exhaust.Search(sf.name, stack, u, opts)
	code := exitOK
	interrupt.Exclusive(func() {
		unregister()
		code = printExhaust(res, err, *save)
	})
	return code
}

// routeLists are the -dsts, -gateways and -sources flags.
type routeLists struct{ dsts, gateways, sources string }

// flagUniverse builds the universe the flags describe.
func flagUniverse(adapters int, promote, keep, prefixList, kindList string, routes routeLists, values valuesFlag) (exhaust.Universe, error) {
	var u exhaust.Universe
	if adapters < 1 || adapters > 8 {
		return u, fmt.Errorf("-adapters: want 1 to 8, not %d", adapters)
	}
	for i := range adapters {
		u.Config.Adapters = append(u.Config.Adapters, "a"+strconv.Itoa(i))
	}
	for _, s := range []struct {
		name, v string
		to      *bool
	}{{"promote", promote, &u.Config.Promote}, {"keep-addr-on-down", keep, &u.Config.KeepAddrOnDown}} {
		switch s.v {
		case "on":
			*s.to = true
		case "off":
		default:
			return u, fmt.Errorf("-%s: want on or off, not %q", s.name, s.v)
		}
	}
	for _, f := range strings.Split(prefixList, ",") {
		p, err := netip.ParsePrefix(strings.TrimSpace(f))
		if err != nil {
			return u, fmt.Errorf("-prefixes: %v", err)
		}
		if slices.Contains(u.Prefixes, p) {
			return u, fmt.Errorf("-prefixes: %s is given twice", p)
		}
		u.Prefixes = append(u.Prefixes, p)
	}
	for _, f := range strings.Split(routes.dsts, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		// "default" is 0.0.0.0/0, as in the op grammar; ::/0 is written so.
		op, err := model.ParseOp("route add " + f + " dev a0")
		if err != nil {
			return u, fmt.Errorf("-dsts: %v", err)
		}
		u.Dsts = append(u.Dsts, op.Prefix)
	}
	for _, l := range []struct {
		name, list string
		to         *[]netip.Addr
	}{{"gateways", routes.gateways, &u.Gateways}, {"sources", routes.sources, &u.Sources}} {
		for _, f := range strings.Split(l.list, ",") {
			if f = strings.TrimSpace(f); f == "" {
				continue
			}
			a, err := netip.ParseAddr(f)
			if err != nil {
				return u, fmt.Errorf("-%s: %v", l.name, err)
			}
			*l.to = append(*l.to, a)
		}
	}
	if kindList != "all" {
		for _, f := range strings.Split(kindList, ",") {
			k, err := model.ParseOpKind(strings.TrimSpace(f))
			if err != nil {
				return u, fmt.Errorf("-kinds: %v", err)
			}
			u.Kinds = append(u.Kinds, k)
		}
	}
	// What the universe's lists and kinds say, then its values.
	if err := u.Validate(); err != nil {
		return u, err
	}
	u.Values = values
	if err := u.Validate(); err != nil {
		return u, fmt.Errorf("-values: %v", err)
	}
	return u, nil
}

// printExhaust prints what a search found, ending with the summary line,
// and returns the exit status.
func printExhaust(res *exhaust.Result, err error, save string) int {
	if res == nil {
		return errorf("%v", err)
	}
	summary := func() {
		fmt.Printf("routefuzz: sut=%s sequences=%d symmetric=%d pruned=%d steps=%d divergences=%d flaky=%d elapsed=%s rate=%.0f/s\n",
			res.SUT, res.Run(), res.Symmetric(), res.Pruned(), res.Steps, b2i(res.Divergence != nil && !res.Flaky), b2i(res.Flaky),
			res.Elapsed.Round(time.Millisecond), rate(res.Run(), res.Elapsed))
	}
	if err != nil {
		errorf("%v", err)
		summary()
		return exitError
	}
	code := exitOK
	if d := res.Divergence; d != nil {
		fmt.Print(d.Report())
		if res.Flaky {
			fmt.Println("DID NOT REPRODUCE: replayed from a fresh reset, this order did not fail the same way")
			code = exitFlaky
		} else {
			code = exitDiverged
			if save != "" {
				c := corpus.FromDivergence(d, fmt.Sprintf("# Found by routefuzz exhaust: a shortest divergence of the universe\n# %s.", res.Universe))
				if path, err := corpus.Save(save, c); err != nil {
					errorf("saving: %v", err)
				} else {
					fmt.Printf("saved: %s\n", path)
				}
			}
		}
	}
	if !res.Flaky {
		fmt.Printf("proved: %s\n", res.Proved())
	}
	summary()
	return code
}

func rate(n int, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(n) / d.Seconds()
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
