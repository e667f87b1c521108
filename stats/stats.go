// Package stats counts what a run generated: which ops, on which
// families and prefix lengths, how long the sequences were, and how often
// they reached the multihomed cases routefuzz is about (a subnet on two
// adapters at once, an add of an address already there, a primary
// deleted, a lifecycle op on an adapter holding addresses).
//
// Everything is computed from the model alone, before and after each op,
// so the figures are the same whatever stack is under test. The kinds
// come from model.Alphabet: a kind added there is counted without a
// change here.
package stats

import (
	"net/netip"
	"slices"
	"sync"

	"github.com/routefuzz/routefuzz/model"
)

// counts are the raw numbers of one sequence, or of many added up.
// Arrays are indexed by model.OpKind.
type counts struct {
	ops       int         // ops applied
	kind      [][3]int    // [kind][0: all, 1: IPv4, 2: IPv6]
	excluded  []int       // [kind]: drawn but skipped by an exclusion
	held      []int       // [kind]: lifecycle ops on an adapter holding addresses
	invalid   []int       // [kind]: ops the model answered invalid
	result    []int       // [model.Result]
	kindRes   [][]int     // [kind][model.Result]
	len4      [33]int     // IPv4 ops by prefix length
	len6      [129]int    // IPv6 ops by prefix length
	addExists int         // adds the model answered exists
	primaries int         // IPv4 primaries deleted
	promoted  int         // secondaries promoted when their primary was deleted
	dropped   int         // secondaries deleted with their primary
	shared    int         // steps after which a subnet was on 2+ adapters
	maxShare  int         // most adapters holding one subnet at once
	maxAddrs  int         // most addresses held at once
	gwOff     int         // steps after which a user route's gateway was off link by its adapter
	srcDel    int         // IPv4 user routes deleted because their src left every adapter
	srcClear  int         // IPv6 user routes whose src was cleared, having left every adapter
	collided  int         // steps after which gwOff held or a src went
	maxUser   int         // most user routes at once
	seqLens   map[int]int // sequence length → sequences (totals only)
	seqShared int         // sequences in which a subnet was on 2+ adapters (totals only)
	seqRoutes int         // sequences with a step counted in collided (totals only)
	seqs      int         // sequences (totals only)
	lifecycle []bool      // [kind]: the kind takes no address nor route (no model.PrefixOperand, not model.OpSpec.Routes)
	address   []bool      // [kind]: the kind names an address (model.PrefixOperand)
	routes    []bool      // [kind]: the kind is about a user route (model.OpSpec.Routes)
	names     []string    // [kind]: its verb
}

func newCounts() counts {
	n := len(model.Alphabet) + 1
	c := counts{
		kind:      make([][3]int, n),
		excluded:  make([]int, n),
		held:      make([]int, n),
		invalid:   make([]int, n),
		result:    make([]int, results()),
		kindRes:   make([][]int, n),
		lifecycle: make([]bool, n),
		address:   make([]bool, n),
		routes:    make([]bool, n),
		names:     make([]string, n),
	}
	for k := range c.kindRes {
		c.kindRes[k] = make([]int, results())
	}
	for _, sp := range model.Alphabet {
		c.lifecycle[sp.Kind] = !sp.Has(model.PrefixOperand) && !sp.Routes()
		c.address[sp.Kind] = sp.Has(model.PrefixOperand)
		c.routes[sp.Kind] = sp.Routes()
		c.names[sp.Kind] = sp.Name
	}
	return c
}

// results returns how many results there are: model.Result values from
// OK up to the last that has a sentinel error.
func results() int {
	n := 1
	for model.Result(n).Err() != nil {
		n++
	}
	return n
}

// reset zeroes the per-sequence numbers, keeping the buffers.
func (c *counts) reset() {
	clear(c.kind)
	clear(c.excluded)
	clear(c.held)
	clear(c.invalid)
	clear(c.result)
	for _, r := range c.kindRes {
		clear(r)
	}
	c.len4 = [33]int{}
	c.len6 = [129]int{}
	c.ops, c.addExists, c.primaries, c.promoted, c.dropped, c.shared, c.maxShare, c.maxAddrs = 0, 0, 0, 0, 0, 0, 0, 0
	c.gwOff, c.srcDel, c.srcClear, c.collided, c.maxUser = 0, 0, 0, 0, 0
}

// add adds the sequence s to the totals c.
func (c *counts) add(s *counts) {
	c.ops += s.ops
	for k := range c.kind {
		for f := range 3 {
			c.kind[k][f] += s.kind[k][f]
		}
		c.excluded[k] += s.excluded[k]
		c.held[k] += s.held[k]
		c.invalid[k] += s.invalid[k]
		for r := range c.kindRes[k] {
			c.kindRes[k][r] += s.kindRes[k][r]
		}
	}
	for i := range c.result {
		c.result[i] += s.result[i]
	}
	for i := range c.len4 {
		c.len4[i] += s.len4[i]
	}
	for i := range c.len6 {
		c.len6[i] += s.len6[i]
	}
	c.addExists += s.addExists
	c.primaries += s.primaries
	c.promoted += s.promoted
	c.dropped += s.dropped
	c.shared += s.shared
	c.maxShare = max(c.maxShare, s.maxShare)
	c.maxAddrs = max(c.maxAddrs, s.maxAddrs)
	c.gwOff += s.gwOff
	c.srcDel += s.srcDel
	c.srcClear += s.srcClear
	c.collided += s.collided
	c.maxUser = max(c.maxUser, s.maxUser)
	if s.collided > 0 {
		c.seqRoutes++
	}
	c.seqs++
	if c.seqLens == nil {
		c.seqLens = map[int]int{}
	}
	c.seqLens[s.ops]++
	if s.maxShare >= 2 {
		c.seqShared++
	}
}

// Collector counts what one run generates, sequence by sequence. Feed it
// with Begin at the start of each sequence, Before and After around every
// op applied (Excluded for an op an exclusion skipped), and End at the
// end of the sequence: End adds the sequence to the totals unless Discard
// is set. Stats returns the totals of the sequences ended so far; it is
// safe to call from another goroutine (a signal handler) while the run
// goes on. The rest is for one goroutine.
type Collector struct {
	// Discard, while set, makes End drop the sequence instead of adding
	// it to the totals: a hunt sets it while rapid shrinks, so that the
	// totals describe the search only.
	Discard bool

	cur counts
	mu  sync.Mutex
	tot counts

	// The op between Before and After, and what was true before it.
	op        model.Op
	want      model.Result
	before    int // addresses on op's adapter before op
	primary   bool
	secondary int // IPv4 addresses of the deleted primary's group, less it
	promote   bool
	share     int           // sharing() after the last op that succeeded
	srcs      []model.Route // the user routes with a src before op (not a route op)
	offLink   bool          // a user route's gateway was off link after the last op that succeeded
}

// NewCollector returns an empty collector.
func NewCollector() *Collector {
	return &Collector{cur: newCounts(), tot: newCounts()}
}

// Begin starts a sequence.
func (c *Collector) Begin() {
	c.cur.reset()
	c.share = 0
	c.offLink = false
}

// End ends the sequence begun last, adding it to the totals unless
// Discard is set.
func (c *Collector) End() {
	if c.Discard {
		return
	}
	c.mu.Lock()
	c.tot.add(&c.cur)
	c.mu.Unlock()
}

// Excluded counts an op that an exclusion skipped: drawn, not applied.
func (c *Collector) Excluded(op model.Op) {
	if int(op.Kind) < len(c.cur.excluded) {
		c.cur.excluded[op.Kind]++
	}
}

// Before records what the model st says of op before it is applied.
// After must follow, once op has been applied to st, with the result the
// model gave (the model is asked once, by whoever applies op).
func (c *Collector) Before(st *model.State, op model.Op) {
	c.op = op
	c.before, c.primary, c.secondary = 0, false, 0
	c.srcs = c.srcs[:0]
	if int(op.Kind) >= len(c.cur.lifecycle) {
		return
	}
	if !c.cur.routes[op.Kind] {
		// An op on addresses or adapters may take a route's src away.
		for _, r := range st.UserRoutes() {
			if r.Src.IsValid() {
				c.srcs = append(c.srcs, r)
			}
		}
	}
	if c.cur.lifecycle[op.Kind] {
		c.before = addrsOn(st.Addrs(), op.Adapter)
		return
	}
	if op.Kind == model.Del && op.Prefix.Addr().Is4() {
		// Whether it is its group's primary, and how many secondaries
		// the group has: the oldest address of the group is primary.
		key := op.Prefix.Masked()
		seen := false
		for _, e := range st.On(op.Adapter) {
			if e.Prefix.Masked() != key {
				continue
			}
			if !seen {
				seen = true
				c.primary = e.Prefix == op.Prefix
				continue
			}
			c.secondary++
		}
		c.promote = st.Config().Promote
	}
}

// After counts the op Before saw, applied to st: st is the model after
// it, and want the result the model gave.
func (c *Collector) After(st *model.State, want model.Result) {
	c.want = want
	op, s := c.op, &c.cur
	if int(op.Kind) >= len(s.kind) {
		return
	}
	s.ops++
	s.result[c.want]++
	if c.want == model.Invalid {
		s.invalid[op.Kind]++
	}
	s.kindRes[op.Kind][c.want]++
	fam := 0
	if p := op.Prefix; p.IsValid() {
		fam = 2
		if p.Addr().Is4() {
			fam = 1
		}
		switch {
		case !s.address[op.Kind]:
		case fam == 1:
			s.len4[p.Bits()]++
		default:
			s.len6[p.Bits()]++
		}
	}
	s.kind[op.Kind][0]++
	if fam > 0 {
		s.kind[op.Kind][fam]++
	}
	if s.lifecycle[op.Kind] && c.before > 0 && c.want == model.OK {
		s.held[op.Kind]++
	}
	switch {
	case op.Kind == model.Add && c.want == model.Exists:
		s.addExists++
	case op.Kind == model.Del && c.primary && c.want == model.OK:
		s.primaries++
		if c.promote {
			s.promoted += min(c.secondary, 1)
		} else {
			s.dropped += c.secondary
		}
	}
	gone := 0
	if c.want == model.OK {
		// A failed op changes nothing: the last figures stand.
		as := st.Addrs()
		s.maxAddrs = max(s.maxAddrs, len(as))
		c.share = sharing(as)
		for _, r := range c.srcs {
			if held(as, r.Src) {
				continue
			}
			// The model deleted the route (IPv4) or cleared its
			// src (IPv6): its src is no adapter's any more.
			gone++
			if r.Src.Is4() {
				s.srcDel++
			} else {
				s.srcClear++
			}
		}
		users := st.UserRoutes()
		s.maxUser = max(s.maxUser, len(users))
		c.offLink = offLink(st, users)
	}
	if n := c.share; n >= 2 {
		s.shared++
		s.maxShare = max(s.maxShare, n)
	}
	if c.offLink {
		s.gwOff++
	}
	if c.offLink || gone > 0 {
		s.collided++
	}
}

// held reports whether address a is on some adapter of the list.
func held(as []model.Addr, a netip.Addr) bool {
	return slices.ContainsFunc(as, func(x model.Addr) bool { return x.Prefix.Addr() == a })
}

// offLink reports whether some user route's gateway is no longer on link
// by its adapter, as the kernel's insertion check would see it now (the
// route stays: the kernel does not delete it). IPv4: no local route of
// the adapter is the gateway and no route of the adapter without a
// gateway covers it; IPv6: the longest route of the adapter covering it
// (the lowest metric among equals) has a gateway, or none covers it.
func offLink(st *model.State, users []model.Route) bool {
	var table model.Table
	for _, u := range users {
		g := u.Via
		if !g.IsValid() {
			continue
		}
		if table == nil {
			table = st.Routes()
		}
		if !onLink(table, u.Dev, g) {
			return true
		}
	}
	return false
}

// onLink is the kernel's on-link check of gateway g by adapter dev in
// table (model.State's rule for route add; a broadcast address is not
// on link).
func onLink(table model.Table, dev string, g netip.Addr) bool {
	best := -1
	var via bool
	var metric uint32
	for _, r := range table {
		if r.Dev != dev || !r.Dst.Contains(g) {
			continue
		}
		if g.Is4() {
			switch {
			case r.Kind == model.Local:
				return true
			case r.Kind == model.Broadcast:
				return false
			case !r.Via.IsValid():
				best = 0
			}
			continue
		}
		if r.Kind != model.Connected {
			continue
		}
		if b := r.Dst.Bits(); b > best || b == best && r.Metric < metric {
			best, via, metric = b, r.Via.IsValid(), r.Metric
		}
	}
	return best >= 0 && (g.Is4() || !via)
}

// addrsOn counts the addresses of the sorted list as on adapter.
func addrsOn(as []model.Addr, adapter string) int {
	i, _ := slices.BinarySearchFunc(as, adapter, func(a model.Addr, ad string) int {
		switch {
		case a.Adapter < ad:
			return -1
		case a.Adapter > ad:
			return 1
		}
		return 0
	})
	n := 0
	for ; i < len(as) && as[i].Adapter == adapter; i++ {
		n++
	}
	return n
}

// sharing returns the most adapters that hold one subnet (masked prefix
// and length) at once, 1 when no subnet is on two, 0 with no addresses.
// as is sorted by adapter, so adapters holding a subnet are counted once
// each by counting changes of adapter.
func sharing(as []model.Addr) int {
	var buf [32]netip.Prefix
	keys := buf[:0]
	for _, a := range as {
		keys = append(keys, a.Prefix.Masked())
	}
	best := 0
	for i, k := range keys {
		if slices.Contains(keys[:i], k) {
			continue // counted from its first occurrence
		}
		n, last := 0, ""
		for j := i; j < len(keys); j++ {
			if keys[j] == k && (n == 0 || as[j].Adapter != last) {
				n++
				last = as[j].Adapter
			}
		}
		best = max(best, n)
	}
	return best
}
