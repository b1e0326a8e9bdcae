#!/usr/bin/python3
"""A stand-in for disklinkd, for developing knet_peer without a volume.

standin_relay.py PORT NODE_ID=NETNS [NODE_ID=NETNS ...]

For every ordered pair of nodes (N, M) it binds, inside N's network
namespace, a UDP socket on M's link address 127.77.0.M:PORT; a datagram
from 127.77.0.N:PORT arriving there is sent, inside M's namespace, from
the socket bound on 127.77.0.N:PORT to 127.77.0.M:PORT -- exactly the
addressing disklinkd serves, minus the volume.  Not used by the tests.
"""
import ctypes
import os
import selectors
import socket
import sys

CLONE_NEWNET = 0x40000000
libc = ctypes.CDLL(None, use_errno=True)


def enter(ns):
    fd = os.open("/run/netns/" + ns, os.O_RDONLY)
    try:
        if libc.setns(fd, CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), "setns " + ns)
    finally:
        os.close(fd)


def main():
    port = int(sys.argv[1])
    nodes = dict((int(a.split("=")[0]), a.split("=")[1]) for a in sys.argv[2:])
    addr = lambda n: "127.77.0.%d" % n
    socks = {}                           # (in ns of N, bound to M's address)
    for n, ns in nodes.items():
        enter(ns)
        for m in nodes:
            if m != n:
                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                s.bind((addr(m), port))
                socks[(n, m)] = s
    sel = selectors.DefaultSelector()
    for key, s in socks.items():
        sel.register(s, selectors.EVENT_READ, key)
    while True:
        for ev, _ in sel.select():
            n, m = ev.data
            data, src = ev.fileobj.recvfrom(65535)
            if src != (addr(n), port):
                continue                 # foreign source: dropped
            socks[(m, n)].sendto(data, (addr(m), port))


main()
