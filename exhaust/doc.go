// Package exhaust runs every sequence of operations up to a length over a
// small universe, shortest first, on a stack and the model side by side,
// so that it can prove what random search and shrinking only claim: that
// no shorter divergence exists.
//
// # The universe
//
// A Universe is a configuration (adapters, promote_secondaries,
// keep_addr_on_down), a list of prefixes, lists of route destinations,
// gateways and sources, a list of op kinds and, for each attribute, a
// few values. Its ops are every op of those kinds whose operands and
// attributes come from it, filled through model.Alphabet (Universe.Ops):
// no kind is special-cased. A route op's gateway and source are each
// absent or one of the universe's of the destination's family. FromCase
// makes the universe of a corpus case: its adapters, its prefixes, its
// route destinations, gateways and sources, its kinds and its attribute
// values (absent is always a value too).
//
// # The search
//
// Search runs the sequences of length 1, then 2, and so on up to a depth.
// Every sequence is replayed from a fresh Reset and compared after every
// op (check.Replay), so nothing depends on a stack being cloned. A length
// is only extended from the sequences of the length before on which the
// stack agreed, since any extension of a diverging sequence diverges
// already at that shorter length. The search stops after the first
// length at which a sequence diverges; that divergence is confirmed by
// replaying it (check.Confirm) and is of the shortest length there is in
// the universe. The order of the ops in Universe.Ops, and so the search,
// is deterministic.
//
// With no reduction (Options{Symmetry: false, Prune: PruneOff}) the
// result assumes nothing of the stack but that it is deterministic: the
// same ops from a fresh Reset give the same results and tables. Every
// divergence is replayed, and a prefix that agreed once and diverges when
// replayed makes the result flaky, not a proof. Each reduction below adds
// one named assumption about the stack, which Result.Proved states.
//
// # Symmetry
//
// Two sequences that differ by a renaming of the adapters and of
// interchangeable addresses are the same sequence to the model: the model
// keys everything by adapter name and compares addresses only for
// equality, subnet membership and being a subnet's broadcast or network
// address. The renamings used are:
//
//   - any permutation of the adapters (the configuration's settings are
//     global, so it treats every adapter alike);
//   - any permutation within a class of interchangeable addresses
//     (AddressClasses): addresses of one family, global unicast, in the
//     same subnet at every prefix length of their family in the universe,
//     none of them a network address nor an IPv4 broadcast address at any
//     of those lengths, and present in the universe at the same lengths.
//     Addresses that route ops name (a destination's, a gateway, a
//     source) are in no class, and the route destinations' lengths count
//     among the lengths. IPv4 addresses of one subnet are NOT in general interchangeable:
//     10.0.0.255/24 is the broadcast address and 10.0.0.0/24 the network
//     address, and an address at /16 may be the broadcast address of a
//     /24 in the universe; each of these is kept out of every class.
//
// A renaming that does not map the universe's ops onto themselves is not
// used. The search runs a sequence only when it is the least of its
// images under the renamings, comparing positions in Universe.Ops
// lexicographically. Being least is closed under taking prefixes (if
// g(s) < s then g(s·t) < s·t, since the first difference lies in s), so
// the least sequence of every class has all its prefixes run, and the
// search reaches it. If the stack treats renamed sequences alike (a
// divergence of s at length n means one of g(s) at length n), the
// shortest length found is the shortest length there is. For the model
// this holds by construction; for a stack it is an assumption (a kernel
// tells adapters apart by ifindex, a buggy stack might by name), so
// symmetry is an option, and the tests check, on legacy and on the
// kernel, that the shortest length is the same with and without it.
//
// # Pruning
//
// A sequence is pruned, under PruneRepeats, when its last op repeats the
// op before it exactly and fails in the model, and the stack gave the
// same result and the same tables; under PruneFailures, when its last op
// fails in the model and the stack agreed. A pruned sequence is run (the
// stack may diverge on the failing op itself: a buggy stack may accept a
// duplicate); it is only not extended.
//
// Soundness. A failed op changes nothing in the model (model.State.Apply).
// Suppose it also changed nothing in the stack: then after s·f the model
// and the stack are each in the state they were in after s, so s·f·t
// behaves, op for op, as s·t, and a divergence of s·f·t at its last op is
// a divergence of s·t, one op shorter, which the search has run (or a
// renaming of it) at the length before. So no shortest divergence lies
// below a pruned sequence. With symmetry as well, by induction on the
// length n of a diverging sequence x whose prefixes all agree: its least
// renaming m diverges at n too; either no prefix of m is pruned, and m is
// run, or m = s·f·t with s·f pruned, and s·t diverges within n-1 ops, so
// by induction the search finds a divergence of at most n-1 ops. Either
// way the first length at which the search finds one is the shortest. The supposition is not observable: a stack can
// agree on the result and on every table and still have changed hidden
// state (a reference count bumped by a rejected add, say), and then s·f·t
// may diverge where s·t does not. Pruning is therefore sound exactly for
// stacks whose failed ops, when they agree with the model, leave their
// state as it was; PruneRepeats assumes it only of an immediate repeat of
// the op before, PruneFailures of every failing op. With PruneOff nothing
// is assumed.
//
// # What it proves
//
// A search of depth K over universe U that finds nothing proves: no
// sequence of at most K ops of U diverges on the stack, from a fresh
// Reset, in result, routes or addresses. One that finds a divergence of n
// ops proves that none of U has fewer than n. Both are under the
// assumptions of the reductions used and only for U: a shorter divergence
// with another address, another attribute value, another adapter or
// another kind is outside the claim. The search is exponential in K
// (|ops|^K sequences before reduction); Result.Levels count what was run,
// skipped by symmetry and pruned at each length.
package exhaust
