#!/usr/bin/env python3
"""An IPv6-only address stack with a seeded bug, for routefuzz.

It speaks routefuzz's external-process protocol, version 1 (PROTOCOL.md),
using only the Python 3 standard library:

    go run ./cmd/routefuzz check -sut exec -exec 'python3 examples/buggy_stack.py'

It declares families=6 (routefuzz then draws only IPv6 addresses),
metrics=1 and ops=add,del: a subset of what routefuzz knows. It declares
no noprefixroute=1 or lifetimes=1 and no other op (down, up, change,
carrier, route add, route del...), so routefuzz never sends it those: it
keeps no user routes, and its tables hold only what its addresses make. Like a kernel, it keeps its routes incrementally, one event at a
time, rather than computing them from its addresses.

The bug: the prefix route an address creates (2001:db8:0:1::/64 dev a0
metric 256) belongs to the first address that needed it, and deleting that
address deletes the route, even when another address on the adapter, in the
same prefix with the same metric, still needs it. The route should be
reference-counted. Deleting addresses newest first hides the bug, so it
takes an order to show it; the shortest is

    add a0 2001:db8:0:1::1/64
    add a0 2001:db8:0:1::2/64
    del a0 2001:db8:0:1::1/64

--fixed reference-counts the route instead, and then the stack passes.
"""

import ipaddress
import sys

PREFIX_METRIC = 256  # metric of a prefix route whose address has none


class Stack:
    def __init__(self, fixed):
        self.fixed = fixed
        self.reset([])

    def reset(self, adapters):
        self.adapters = list(adapters)
        self.addrs = {a: [] for a in adapters}  # adapter -> [(iface, metric)], oldest first
        self.local = set()  # (adapter, address)
        self.prefix = {}  # (adapter, network, metric) -> owner address, or a count when fixed

    def add(self, dev, iface, metric):
        if dev not in self.addrs:
            return "err invalid no adapter %s" % dev
        if any(a.ip == iface.ip for a, _ in self.addrs[dev]):
            return "err exists %s is already on %s" % (iface.ip, dev)
        self.addrs[dev].append((iface, metric))
        self.local.add((dev, iface.ip))
        key = (dev, iface.network, metric or PREFIX_METRIC)
        if self.fixed:
            self.prefix[key] = self.prefix.get(key, 0) + 1
        elif key not in self.prefix:
            self.prefix[key] = iface.ip  # BUG: the first address owns the route
        return "ok"

    def delete(self, dev, iface):
        if dev not in self.addrs:
            return "err invalid no adapter %s" % dev
        for i, (a, metric) in enumerate(self.addrs[dev]):
            if a == iface:
                break
        else:
            return "err notfound %s is not on %s" % (iface.with_prefixlen, dev)
        del self.addrs[dev][i]
        self.local.discard((dev, iface.ip))
        key = (dev, iface.network, metric or PREFIX_METRIC)
        if self.fixed:
            self.prefix[key] -= 1
            if self.prefix[key] == 0:
                del self.prefix[key]
        elif self.prefix.get(key) == iface.ip:
            del self.prefix[key]  # BUG: even if another address still needs it
        return "ok"

    def routes(self):
        out = ["local %s/128 dev %s" % (ip, dev) for dev, ip in self.local]
        for dev, net, metric in self.prefix:
            out.append("%s dev %s metric %d" % (net, dev, metric))
        return out

    def addr_lines(self):
        return ["%s %s" % (dev, a.with_prefixlen) for dev in self.adapters for a, _ in self.addrs[dev]]


def parse_op(words):
    """Parses "DEV PREFIX [metric N]" into (dev, interface, metric)."""
    dev, iface = words[0], ipaddress.ip_interface(words[1])
    metric = 0
    if len(words) == 4 and words[2] == "metric":
        metric = int(words[3])
    elif len(words) != 2:
        raise ValueError("unexpected %r" % " ".join(words[2:]))
    if iface.version != 6:
        raise ValueError("this stack is IPv6-only (it declared families=6)")
    return dev, iface, metric


def answer(stack, line):
    """Returns the answer lines for one request, or None to quit."""
    words = line.split()
    verb = words[0] if words else ""
    if verb == "hello":
        if words[1:] != ["routefuzz", "1"]:
            print("buggy_stack: harness speaks %r, not version 1" % line, file=sys.stderr)
            return None
        # A subset of the op alphabet: addresses only, no down, up,
        # change, carrier, route-add or route-del; of the attributes,
        # only the metric (no noprefixroute, no lifetimes).
        return ["hello routefuzz 1 families=6 metrics=1 ops=add,del"]
    if verb == "reset":
        stack.reset(words[1:])
        return ["ok"]
    if verb in ("add", "del") and len(words) >= 3:
        try:
            dev, iface, metric = parse_op(words[1:])
        except ValueError as e:
            return ["err invalid %s" % e]
        if verb == "add":
            return [stack.add(dev, iface, metric)]
        if metric:
            return ["err invalid del takes no metric"]
        return [stack.delete(dev, iface)]
    if verb == "routes":
        return stack.routes() + ["."]
    if verb == "addrs":
        return stack.addr_lines() + ["."]
    if verb == "quit":
        return None
    return ["err unsupported"]


def main():
    stack = Stack(fixed="--fixed" in sys.argv[1:])
    while True:
        line = sys.stdin.readline()
        if not line:
            return  # end of input: the harness is gone
        lines = answer(stack, line)
        if lines is None:
            return
        sys.stdout.write("\n".join(lines) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
