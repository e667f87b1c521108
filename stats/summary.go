package stats

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/routefuzz/routefuzz/model"
)

// Stats are the totals of the sequences a Collector added up: what a run
// generated. Every figure is the model's, so it is the same whatever
// stack is under test. "Ops" are ops applied to the model and the stack;
// ops an exclusion skipped are counted in Excluded only.
type Stats struct {
	// Sequences is how many sequences (rapid checks) were added up.
	Sequences int `json:"sequences"`
	// Ops is how many ops they applied, Excluded how many more were
	// drawn and skipped by an exclusion.
	Ops      int `json:"ops"`
	Excluded int `json:"excluded"`
	// SequenceLength is the spread of the sequences' lengths (ops
	// applied); SequenceLengths their histogram, one entry per length.
	SequenceLength  Spread  `json:"sequence_length"`
	SequenceLengths []Count `json:"sequence_lengths"`
	// Kinds counts the ops by kind, in model.Alphabet order, every kind
	// listed.
	Kinds []Kind `json:"kinds"`
	// Results counts the ops by the result the model gave: ok, exists,
	// notfound, invalid (every one listed).
	Results []Result `json:"results"`
	// PrefixLengths counts the ops that name an address by family and
	// prefix length (only the lengths drawn), IPv4 first.
	PrefixLengths []PrefixLength `json:"prefix_lengths"`
	// Adds is how many add ops were applied, AddsExisting how many of
	// them found their address already there (result exists).
	Adds         int `json:"adds"`
	AddsExisting int `json:"adds_existing"`
	// SharedSequences is how many sequences had, after some op, one
	// subnet (masked prefix and length) on two or more adapters at once;
	// SharedSteps after how many ops that held, in all sequences; and
	// MostAdaptersSharing the most adapters holding one subnet at once.
	SharedSequences     int `json:"shared_subnet_sequences"`
	SharedSteps         int `json:"shared_subnet_steps"`
	MostAdaptersSharing int `json:"most_adapters_sharing"`
	// PrimariesDeleted is how many IPv4 primaries a del removed;
	// SecondariesPromoted how many of those deletions promoted a
	// secondary (promote on), SecondariesDeleted how many secondaries
	// went with their primary (promote off).
	PrimariesDeleted    int `json:"primaries_deleted"`
	SecondariesPromoted int `json:"secondaries_promoted"`
	SecondariesDeleted  int `json:"secondaries_deleted"`
	// Lifecycle is how many ops of the kinds that take no address
	// (down, up, carrier, unplug, plug: model.OpSpec.Operands without
	// model.PrefixOperand) were applied; LifecycleOnAddresses how many
	// of them succeeded on an adapter that held addresses just before.
	Lifecycle            int `json:"lifecycle"`
	LifecycleOnAddresses int `json:"lifecycle_on_addresses"`
	// Invalid is how many ops the model answered invalid (an unknown or
	// unplugged adapter).
	Invalid int `json:"invalid"`
	// MostAddresses is the most addresses held at once, on all adapters.
	MostAddresses int `json:"most_addresses"`
	// The collisions of user routes (route add) with addresses, that the
	// generator draws route ops to create. RouteGatewayOffLinkSteps is
	// after how many ops some user route's gateway was no longer on link
	// by its adapter (the address whose subnet held it gone, or the user
	// route through which it was); RouteSrcDeleted how many IPv4 user
	// routes were deleted because their src left every adapter,
	// RouteSrcCleared how many IPv6 user routes lost their src that way;
	// RouteCollisionSteps after how many ops either happened (a gateway
	// off link, or a src gone by that op) and RouteCollisionSequences in
	// how many sequences; MostUserRoutes the most user routes at once.
	RouteGatewayOffLinkSteps int `json:"route_gateway_off_link_steps"`
	RouteSrcDeleted          int `json:"route_src_deleted"`
	RouteSrcCleared          int `json:"route_src_cleared"`
	RouteCollisionSteps      int `json:"route_collision_steps"`
	RouteCollisionSequences  int `json:"route_collision_sequences"`
	MostUserRoutes           int `json:"most_user_routes"`
}

// Spread is the least, the median and the greatest of some numbers.
type Spread struct {
	Min    int `json:"min"`
	Median int `json:"median"`
	Max    int `json:"max"`
}

// Count is one entry of a histogram: how many sequences had that length.
type Count struct {
	Length    int `json:"length"`
	Sequences int `json:"sequences"`
}

// Kind counts the ops of one kind.
type Kind struct {
	Kind string `json:"kind"`
	// Lifecycle says the kind takes no address.
	Lifecycle bool `json:"lifecycle"`
	Ops       int  `json:"ops"`
	// IPv4 and IPv6 split Ops by the family of the address, or of the
	// route's destination, for the kinds that take one.
	IPv4 int `json:"ipv4"`
	IPv6 int `json:"ipv6"`
	// Results counts Ops by the result the model gave, those that came
	// up only, in result order.
	Results []Result `json:"results"`
	// Invalid counts those the model answered invalid; Excluded those
	// drawn and skipped by an exclusion (not in Ops).
	Invalid  int `json:"invalid"`
	Excluded int `json:"excluded"`
	// OnAddresses counts, for a lifecycle kind, those that succeeded on
	// an adapter holding addresses.
	OnAddresses int `json:"on_addresses"`
}

// Result counts the ops the model gave one result.
type Result struct {
	Result string `json:"result"`
	Ops    int    `json:"ops"`
}

// PrefixLength counts the ops naming an address of one family and
// prefix length.
type PrefixLength struct {
	Family string `json:"family"` // "ipv4" or "ipv6"
	Length int    `json:"length"`
	Ops    int    `json:"ops"`
}

// Stats returns the totals of the sequences ended so far (not those
// dropped while Discard was set).
func (c *Collector) Stats() Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &c.tot
	s := Stats{
		Sequences:           t.seqs,
		Ops:                 t.ops,
		AddsExisting:        t.addExists,
		SharedSequences:     t.seqShared,
		SharedSteps:         t.shared,
		MostAdaptersSharing: t.maxShare,
		PrimariesDeleted:    t.primaries,
		SecondariesPromoted: t.promoted,
		SecondariesDeleted:  t.dropped,
		MostAddresses:       t.maxAddrs,

		RouteGatewayOffLinkSteps: t.gwOff,
		RouteSrcDeleted:          t.srcDel,
		RouteSrcCleared:          t.srcClear,
		RouteCollisionSteps:      t.collided,
		RouteCollisionSequences:  t.seqRoutes,
		MostUserRoutes:           t.maxUser,

		Kinds:           []Kind{},
		Results:         []Result{},
		PrefixLengths:   []PrefixLength{},
		SequenceLengths: []Count{},
	}
	for _, sp := range model.Alphabet {
		k := sp.Kind
		kc := Kind{Kind: sp.Name, Lifecycle: t.lifecycle[k], Ops: t.kind[k][0], IPv4: t.kind[k][1], IPv6: t.kind[k][2],
			Invalid: t.invalid[k], Excluded: t.excluded[k], OnAddresses: t.held[k], Results: []Result{}}
		for r, n := range t.kindRes[k] {
			if n > 0 {
				kc.Results = append(kc.Results, Result{Result: model.Result(r).String(), Ops: n})
			}
		}
		s.Kinds = append(s.Kinds, kc)
		s.Excluded += kc.Excluded
		s.Invalid += kc.Invalid
		if kc.Lifecycle {
			s.Lifecycle += kc.Ops
			s.LifecycleOnAddresses += kc.OnAddresses
		}
		if k == model.Add {
			s.Adds = kc.Ops
		}
	}
	for r, n := range t.result {
		s.Results = append(s.Results, Result{Result: model.Result(r).String(), Ops: n})
	}
	for l, n := range t.len4 {
		if n > 0 {
			s.PrefixLengths = append(s.PrefixLengths, PrefixLength{"ipv4", l, n})
		}
	}
	for l, n := range t.len6 {
		if n > 0 {
			s.PrefixLengths = append(s.PrefixLengths, PrefixLength{"ipv6", l, n})
		}
	}
	lens := slices.Sorted(maps.Keys(t.seqLens))
	for _, l := range lens {
		s.SequenceLengths = append(s.SequenceLengths, Count{l, t.seqLens[l]})
	}
	if len(lens) > 0 {
		s.SequenceLength = Spread{Min: lens[0], Max: lens[len(lens)-1], Median: median(s.SequenceLengths, t.seqs)}
	}
	return s
}

// median returns the lower median of a histogram of n values.
func median(h []Count, n int) int {
	seen := 0
	for _, c := range h {
		seen += c.Sequences
		if 2*seen >= n {
			return c.Length
		}
	}
	return 0
}

// String returns the block `check` and `hunt` print, lines indented
// under a first line that starts "generated:".
func (s Stats) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "generated: %s ops in %s sequences", thousands(s.Ops), thousands(s.Sequences))
	if s.Sequences > 0 {
		fmt.Fprintf(&b, " (length min %d, median %d, max %d)", s.SequenceLength.Min, s.SequenceLength.Median, s.SequenceLength.Max)
	}
	if s.Excluded > 0 {
		fmt.Fprintf(&b, "; %s more drawn and excluded", thousands(s.Excluded))
	}
	b.WriteString("\n")
	if s.Ops == 0 {
		return b.String()
	}
	var parts []string
	for _, k := range s.Kinds {
		if k.Ops == 0 {
			continue
		}
		p := k.Kind + " " + pct(k.Ops, s.Ops)
		if k.IPv4 > 0 || k.IPv6 > 0 {
			p += fmt.Sprintf(" (IPv4 %s, IPv6 %s)", thousands(k.IPv4), thousands(k.IPv6))
		}
		parts = append(parts, p)
	}
	fmt.Fprintf(&b, "  by kind:    %s\n", strings.Join(parts, " · "))
	parts = parts[:0]
	for i, r := range s.Results {
		if r.Ops == 0 && i > int(model.Invalid) {
			continue // the route results, while no route op gave them
		}
		parts = append(parts, r.Result+" "+pct(r.Ops, s.Ops))
	}
	fmt.Fprintf(&b, "  results:    %s\n", strings.Join(parts, " · "))
	parts = parts[:0]
	for _, fam := range []string{"ipv4", "ipv6"} {
		total := 0
		for _, l := range s.PrefixLengths {
			if l.Family == fam {
				total += l.Ops
			}
		}
		if total == 0 {
			continue
		}
		p := map[string]string{"ipv4": "IPv4", "ipv6": "IPv6"}[fam]
		for _, l := range s.PrefixLengths {
			if l.Family == fam {
				p += fmt.Sprintf(" /%d %s", l.Length, pct(l.Ops, total))
			}
		}
		parts = append(parts, p)
	}
	fmt.Fprintf(&b, "  prefixes:   %s\n", strings.Join(parts, " · "))
	fmt.Fprintf(&b, "  sequences:  %s\n", lengthBuckets(s.SequenceLengths, s.Sequences))
	promo := thousands(s.SecondariesDeleted) + " secondaries deleted with them"
	if s.SecondariesPromoted > 0 {
		promo = thousands(s.SecondariesPromoted) + " promoted a secondary"
	}
	fmt.Fprintf(&b, "  multihomed: add of an address already there %s of adds · subnet on 2+ adapters at once in %s of sequences (max %d adapters) · primaries deleted %s (%s) · lifecycle ops on an adapter with addresses %s of %s · invalid ops %s · most addresses at once %d\n",
		pct(s.AddsExisting, s.Adds), pct(s.SharedSequences, s.Sequences), s.MostAdaptersSharing,
		thousands(s.PrimariesDeleted), promo, thousands(s.LifecycleOnAddresses), thousands(s.Lifecycle),
		thousands(s.Invalid), s.MostAddresses)
	if r := s.routes(); r != "" {
		fmt.Fprintf(&b, "  routes:     %s\n", r)
	}
	return b.String()
}

// routes returns the routes line: the route kinds' ops by result, and
// their collisions with addresses; "" when no route op was applied.
func (s Stats) routes() string {
	var parts []string
	for _, k := range s.Kinds {
		kind, err := model.ParseOpKind(k.Kind)
		if err != nil || !kind.Spec().Routes() || k.Ops == 0 {
			continue
		}
		var rs []string
		for _, r := range k.Results {
			rs = append(rs, r.Result+" "+pct(r.Ops, k.Ops))
		}
		parts = append(parts, fmt.Sprintf("%s %s (%s)", k.Kind, thousands(k.Ops), strings.Join(rs, ", ")))
	}
	if len(parts) == 0 {
		return ""
	}
	parts = append(parts,
		fmt.Sprintf("a gateway off link after %s of ops", pct(s.RouteGatewayOffLinkSteps, s.Ops)),
		fmt.Sprintf("src gone: %s IPv4 routes deleted, %s IPv6 srcs cleared", thousands(s.RouteSrcDeleted), thousands(s.RouteSrcCleared)),
		fmt.Sprintf("either in %s of sequences", pct(s.RouteCollisionSequences, s.Sequences)),
		fmt.Sprintf("most user routes at once %d", s.MostUserRoutes))
	return strings.Join(parts, " · ")
}

// lengthBuckets writes a histogram of sequence lengths in buckets of
// ten, those of 100 ops or more in one.
func lengthBuckets(h []Count, n int) string {
	if len(h) == 0 {
		return "none"
	}
	buckets := map[int]int{}
	for _, c := range h {
		buckets[min(c.Length/10, 10)] += c.Sequences
	}
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(buckets)) {
		b := fmt.Sprintf("%d-%d", 10*k, 10*k+9)
		if k == 10 {
			b = "100+"
		}
		parts = append(parts, b+" "+pct(buckets[k], n))
	}
	return strings.Join(parts, " · ")
}

// pct returns n as a whole percentage of of: "41%", "<1%" when it is
// not zero but rounds to it.
func pct(n, of int) string {
	if of == 0 {
		return "0%"
	}
	p := (200*n + of) / (2 * of)
	if p == 0 && n > 0 {
		return "<1%"
	}
	return strconv.Itoa(p) + "%"
}

// thousands returns n with commas: 1,234.
func thousands(n int) string {
	s := strconv.Itoa(n)
	if n < 0 {
		return "-" + thousands(-n)
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
