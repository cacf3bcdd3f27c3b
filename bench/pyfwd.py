#!/usr/bin/python3
"""pyfwd.py - the peer many users would write instead: a Python
os.read/os.write loop over two TUNs (select for readiness, no offloads).

    pyfwd.py NS_A NS_B   opens TUN "fa" in /run/netns/NS_A and "fb" in
                         /run/netns/NS_B, prints "ready", forwards until
                         SIGTERM/SIGINT.
"""
import ctypes
import fcntl
import os
import select
import signal
import struct
import sys

TUNSETIFF = 0x400454CA
IFF_TUN, IFF_NO_PI = 0x0001, 0x1000
CLONE_NEWNET = 0x40000000
libc = ctypes.CDLL(None, use_errno=True)


def setns(fd):
    if libc.setns(fd, CLONE_NEWNET) != 0:
        raise OSError(ctypes.get_errno(), "setns")


def tun_in(ns, name):
    home = os.open("/proc/self/ns/net", os.O_RDONLY)
    nsfd = os.open("/run/netns/" + ns, os.O_RDONLY)
    setns(nsfd)
    fd = os.open("/dev/net/tun", os.O_RDWR | os.O_NONBLOCK)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", name.encode(), IFF_TUN | IFF_NO_PI))
    setns(home)
    os.close(home)
    os.close(nsfd)
    return fd


def main():
    a, b = tun_in(sys.argv[1], "fa"), tun_in(sys.argv[2], "fb")
    other = {a: b, b: a}
    running = [True]
    signal.signal(signal.SIGTERM, lambda *_: running.__setitem__(0, False))
    signal.signal(signal.SIGINT, lambda *_: running.__setitem__(0, False))
    print("ready", flush=True)
    while running[0]:
        try:
            ready, _, _ = select.select([a, b], [], [], 0.5)
        except InterruptedError:
            continue
        for fd in ready:
            while True:
                try:
                    pkt = os.read(fd, 65536)
                except BlockingIOError:
                    break
                try:
                    os.write(other[fd], pkt)
                except OSError:
                    pass  # the other side full or not up yet: drop, as a NIC would


main()
