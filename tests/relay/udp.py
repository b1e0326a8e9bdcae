#!/usr/bin/python3
"""Raw UDP traffic for the relay tests (run inside a node's namespace).

udp.py send  --src A:P --dst A:P --marker M [--sizes 100,65507] [--count N]
             [--first SEQ] [--ack] [--timeout S] [--retries R] [--gap-ms MS]
    Send datagrams with sequence numbers SEQ.. from a socket bound on --src.
    With --ack, wait after each one for the receiver's ack (coming back
    through the relay), resending it (same seq, next try) up to R times,
    and stop at the first one that stays unacknowledged.
udp.py recv  --bind A:P --src A:P --marker M --count N --timeout S [--ack]
             [--quiet-ms MS] [--ready FILE]
    Receive until N distinct sequence numbers were seen or nothing came
    for --quiet-ms (after the first) or --timeout; verify every byte; with
    --ack reply to each datagram.  Prints JSON: received, distinct, dups
    (a (seq, try) seen twice: a replay), bad, foreign, seqs.
udp.py once  --src A:P --dst A:P --payload TEXT
    Send one datagram (used to send from a foreign source).

Payload: marker (32 bytes) | seq u64 | try u32 | len u32 | bytes of
sha256(seq) repeated.  Exit status 0 when everything asked for happened.
"""
import argparse
import hashlib
import json
import os
import signal
import socket
import struct
import sys
import time

HDR = struct.Struct("<QII")


def addr(text):
    host, port = text.rsplit(":", 1)
    return (host, int(port))


def payload(marker, seq, tries, size):
    head = marker + HDR.pack(seq, tries, size)
    fill = hashlib.sha256(b"%d" % seq).digest()
    body = (fill * (size // len(fill) + 1))[: size - len(head)]
    return head + body


def parse(marker, data):
    """(seq, try) of a well-formed datagram, else None."""
    n = len(marker)
    if len(data) < n + HDR.size or data[:n] != marker:
        return None
    seq, tries, size = HDR.unpack_from(data, n)
    if size != len(data) or data != payload(marker, seq, tries, size):
        return None
    return seq, tries


def sock(bind):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
    s.bind(bind)
    return s


def cmd_send(a):
    marker = a.marker.encode()
    sizes = [int(x) for x in a.sizes.split(",")]
    s = sock(addr(a.src))
    dst = addr(a.dst)
    out = {"sent": 0, "acked": 0, "resent": 0, "failed": []}
    for i in range(a.count):
        seq = a.first + i
        size = sizes[i % len(sizes)]
        for tries in range(a.retries + 1 if a.ack else 1):
            s.sendto(payload(marker, seq, tries, size), dst)
            out["sent"] += 1
            out["resent"] += tries > 0
            if not a.ack:
                break
            if wait_ack(s, marker, dst, seq, a.timeout):
                out["acked"] += 1
                break
        else:
            out["failed"].append(seq)
            break           # stop-and-wait: the rest would fail the same way
        if a.gap_ms:
            time.sleep(a.gap_ms / 1000.0)
    if a.hold_ms:
        # Keep the socket, as knet keeps its own: disklinkd relays only
        # from a knet end whose socket it can see (the owner check).
        time.sleep(a.hold_ms / 1000.0)
    print(json.dumps(out))
    return 0 if not out["failed"] else 1


def wait_ack(s, marker, dst, seq, timeout):
    end = time.monotonic() + timeout
    while True:
        left = end - time.monotonic()
        if left <= 0:
            return False
        s.settimeout(left)
        try:
            data, src = s.recvfrom(65535)
        except socket.timeout:
            return False
        if src == dst and data[: len(marker)] == marker and len(data) >= len(marker) + 8:
            if struct.unpack_from("<Q", data, len(marker))[0] == seq:
                return True


class Stop(Exception):
    pass


def stop(signum, frame):
    raise Stop()


def cmd_recv(a):
    signal.signal(signal.SIGTERM, stop)
    try:
        return recv_loop(a)
    except Stop:
        return recv_report(a.out, a.seqs)


def recv_report(out, seqs):
    out["distinct"] = len(seqs)
    out["seqs"] = sorted(seqs)
    print(json.dumps(out))
    sys.stdout.flush()
    return 0 if out["dups"] == 0 and out["bad"] == 0 and out["foreign"] == 0 else 1


def recv_loop(a):
    marker = a.marker.encode()
    s = sock(addr(a.bind))
    want_src = addr(a.src)
    seen, seqs = set(), set()
    out = {"received": 0, "distinct": 0, "dups": 0, "bad": 0, "foreign": 0}
    a.out, a.seqs = out, seqs
    if a.ready:
        open(a.ready, "w").close()
    end = time.monotonic() + a.timeout
    first = None
    while len(seqs) < a.count:
        now = time.monotonic()
        left = end - now
        if first is not None and a.quiet_ms:
            left = min(left, last + a.quiet_ms / 1000.0 - now)
        if left <= 0:
            break
        s.settimeout(left)
        try:
            data, src = s.recvfrom(65535)
        except socket.timeout:
            break
        last = time.monotonic()
        first = first or last
        if src != want_src:
            out["foreign"] += 1
            continue
        out["received"] += 1
        key = parse(marker, data)
        if key is None:
            out["bad"] += 1
            continue
        if key in seen:
            out["dups"] += 1
        seen.add(key)
        seqs.add(key[0])
        if a.ack:
            s.sendto(marker + struct.pack("<Q", key[0]), src)
    rc = recv_report(out, seqs)
    return rc if a.quiet_ms or len(seqs) >= a.count else 1


def cmd_once(a):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(addr(a.src))
    s.sendto(a.payload.encode(), addr(a.dst))
    return 0


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    for name in ("send", "recv", "once"):
        q = sub.add_parser(name)
        q.add_argument("--marker", default="")
        q.add_argument("--timeout", type=float, default=5.0)
        q.add_argument("--ack", action="store_true")
        q.add_argument("--count", type=int, default=1)
        if name in ("send", "once"):
            q.add_argument("--src", required=True)
            q.add_argument("--dst", required=True)
        if name == "send":
            q.add_argument("--sizes", default="1000")
            q.add_argument("--first", type=int, default=0)
            q.add_argument("--retries", type=int, default=3)
            q.add_argument("--gap-ms", type=float, default=0)
            q.add_argument("--hold-ms", type=float, default=500)
        if name == "recv":
            q.add_argument("--bind", required=True)
            q.add_argument("--src", required=True)
            q.add_argument("--quiet-ms", type=float, default=0)
            q.add_argument("--ready")
        if name == "once":
            q.add_argument("--payload", required=True)
    a = p.parse_args()
    if a.cmd in ("send", "recv") and len(a.marker) != 32:
        p.error("--marker must be 32 characters")
    return {"send": cmd_send, "recv": cmd_recv, "once": cmd_once}[a.cmd](a)


sys.exit(main())
