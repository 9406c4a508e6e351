#!/usr/bin/env python3
"""Loopback ports for the interop suites: the one home of port choice.

A port taken by binding port 0 and closing again lies in the system's
ephemeral range, so while the daemon meant for it is still starting, an
outgoing connection (Postfix to Dovecot, a client to a peer) or another
`:0` bind can take it, and the daemon then fails with "address in use";
two `:0` picks can also return the same port. CI lost a run to one of
these (maild exited at start, before listening on 34657). Ports
chosen here lie below the ephemeral range, where neither can land, and are
never handed out twice in one run: when INTEROP_PORTS_FILE names a file,
every port given is recorded there, so separate calls from a shell script
stay distinct too.

As a program:
    ports.py port [N]      N free ports (default 1), one per line
    ports.py range N       "LO HI": N consecutive free ports (passive ranges)
"""

import os
import random
import socket
import sys

LOWEST = 10_000
_given = set()


def _ephemeral_low():
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def _recorded():
    path = os.environ.get("INTEROP_PORTS_FILE")
    if not path or not os.path.exists(path):
        return set()
    with open(path) as f:
        return {int(w) for w in f.read().split() if w.isdigit()}


def _record(ports):
    _given.update(ports)
    path = os.environ.get("INTEROP_PORTS_FILE")
    if path:
        with open(path, "a") as f:
            f.write("".join(f"{p}\n" for p in ports))


def _bindable(port):
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_ports(n):
    """Returns `n` distinct free ports below the ephemeral range."""
    high = _ephemeral_low()
    if high - LOWEST < 10 * n:
        raise RuntimeError(f"too few ports between {LOWEST} and {high}")
    taken = _given | _recorded()
    chosen = []
    for _ in range(100 * n + 1000):
        if len(chosen) == n:
            break
        p = random.randrange(LOWEST, high)
        if p in taken or p in chosen or not _bindable(p):
            continue
        chosen.append(p)
    if len(chosen) < n:
        raise RuntimeError(f"no {n} free ports between {LOWEST} and {high}")
    _record(chosen)
    return chosen


def free_port():
    """Returns one free port below the ephemeral range."""
    return free_ports(1)[0]


def port_range(n):
    """Returns (lo, hi): `n` consecutive free ports below the ephemeral range."""
    high = _ephemeral_low()
    taken = _given | _recorded()
    for _ in range(500):
        lo = random.randrange(LOWEST, high - n)
        ports = range(lo, lo + n)
        if any(p in taken for p in ports):
            continue
        if all(_bindable(p) for p in ports):
            _record(list(ports))
            return lo, lo + n - 1
    raise RuntimeError(f"no {n} consecutive free ports between {LOWEST} and {high}")


if __name__ == "__main__":
    args = sys.argv[1:]
    if args[:1] == ["port"] and len(args) <= 2:
        print("\n".join(str(p) for p in free_ports(int(args[1]) if len(args) == 2 else 1)))
    elif args[:1] == ["range"] and len(args) == 2:
        print("%d %d" % port_range(int(args[1])))
    else:
        sys.exit(__doc__)
