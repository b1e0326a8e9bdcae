#!/usr/bin/python3
"""Paced, verified datagram traffic for the fault and soak tests.

traffic.py --node N --bind A:P --peer M=A:P [--peer ...] --marker M
           --rate R --duration S [--size B] [--delay S] [--drain S]
           [--stats-every S]

Runs inside node N's namespace, standing for its knet: one socket bound
on the node's own link address, sending to each peer's address (served
by the local disklinkd) R datagrams per second per peer, on an absolute
schedule, for S seconds (after --delay, so that every node has bound its
socket); then receives for --drain more seconds.  Every received datagram
is verified byte for byte (payload: marker | source node | seq | length |
sha256 over them, repeated).  Prints JSON: per peer sent (by us to it),
received, distinct, bad (corrupt), dups, max_seq, and the seqs received
from it as ranges; with --stats-every, a progress line on stderr.
Exit 0 unless a corrupt datagram or a foreign source was seen.
"""
import argparse
import hashlib
import json
import select
import socket
import struct
import sys
import time

HDR = struct.Struct("<IQI")


def addr(text):
    host, port = text.rsplit(":", 1)
    return (host, int(port))


def make(marker, node, seq, size):
    head = marker + HDR.pack(node, seq, size)
    fill = hashlib.sha256(head).digest()
    return head + (fill * (size // 32 + 1))[: size - len(head)]


def check(marker, data):
    """(node, seq) of an intact datagram, else None."""
    n = len(marker)
    if len(data) < n + HDR.size or data[:n] != marker:
        return None
    node, seq, size = HDR.unpack_from(data, n)
    if size != len(data) or data != make(marker, node, seq, size):
        return None
    return node, seq


def ranges(seqs):
    out, start, prev = [], None, None
    for s in sorted(seqs):
        if start is None:
            start = prev = s
        elif s == prev + 1:
            prev = s
        else:
            out.append([start, prev])
            start = prev = s
    if start is not None:
        out.append([start, prev])
    return out


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--node", type=int, required=True)
    p.add_argument("--bind", required=True)
    p.add_argument("--peer", action="append", default=[])
    p.add_argument("--marker", required=True)
    p.add_argument("--rate", type=float, required=True)
    p.add_argument("--duration", type=float, required=True)
    p.add_argument("--size", type=int, default=200)
    p.add_argument("--delay", type=float, default=2.0)
    p.add_argument("--drain", type=float, default=3.0)
    p.add_argument("--stats-every", type=float, default=0)
    a = p.parse_args()
    marker = a.marker.encode()
    if len(marker) != 32:
        p.error("--marker must be 32 characters")
    peers = {}
    for text in a.peer:
        node, where = text.split("=", 1)
        peers[addr(where)] = int(node)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 8 << 20)
    s.bind(addr(a.bind))
    s.setblocking(False)
    res = {n: {"sent": 0, "received": 0, "bad": 0, "dups": 0, "send_errors": 0}
           for n in peers.values()}
    seen = {n: set() for n in peers.values()}
    foreign = 0
    period = 1.0 / a.rate if a.rate > 0 else None
    t0 = time.monotonic() + a.delay
    t_end = t0 + a.duration
    t_stop = t_end + a.drain
    seq = 0
    next_stats = time.monotonic() + a.stats_every if a.stats_every else None
    while True:
        now = time.monotonic()
        if now >= t_stop:
            break
        # Send what is due (catching up after a late wake-up, bounded).
        if period and t0 <= now < t_end:
            due = int((now - t0) / period) + 1
            burst = 0
            while seq < due and burst < 200:
                for where, node in peers.items():
                    try:
                        s.sendto(make(marker, a.node, seq, a.size), where)
                        res[node]["sent"] += 1
                    except (BlockingIOError, ConnectionRefusedError, OSError):
                        res[node]["send_errors"] += 1
                seq += 1
                burst += 1
        # Receive everything waiting.
        while True:
            try:
                data, src = s.recvfrom(65535)
            except (BlockingIOError, ConnectionRefusedError):
                break
            node = peers.get(src)
            if node is None:
                foreign += 1
                continue
            r = res[node]
            r["received"] += 1
            key = check(marker, data)
            if key is None or key[0] != node:
                r["bad"] += 1
                continue
            if key[1] in seen[node]:
                r["dups"] += 1
            seen[node].add(key[1])
        if next_stats and now >= next_stats:
            next_stats += a.stats_every
            sys.stderr.write(json.dumps({"t": round(now - t0, 1), "seq": seq,
                                         "distinct": {n: len(v) for n, v in seen.items()}})
                             + "\n")
            sys.stderr.flush()
        now = time.monotonic()
        if period and now < t_end:
            wait = max(0.0, t0 + seq * period - now) if now >= t0 else t0 - now
        else:
            wait = t_stop - now
        select.select([s], [], [], min(max(wait, 0.0), 0.05))
    out = {"node": a.node, "foreign": foreign, "peers": {}}
    for node, r in res.items():
        r["distinct"] = len(seen[node])
        r["max_seq"] = max(seen[node]) if seen[node] else -1
        r["ranges"] = ranges(seen[node])
        out["peers"][str(node)] = r
    print(json.dumps(out))
    bad = foreign or any(r["bad"] for r in res.values())
    return 1 if bad else 0


sys.exit(main())
