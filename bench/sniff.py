"""sniff.py: scapy's sniff(store=False) on a link, counting packets, for
bench/capture.lua. Prints "listening" once the socket is open and, after
SIGINT, "N packets captured"."""
import signal
import sys

from scapy.all import sniff

# started in the background by a shell, which ignores SIGINT for it
signal.signal(signal.SIGINT, signal.default_int_handler)

count = 0


def seen(_):
    global count
    count += 1


sniff(iface=sys.argv[1], store=False, prn=seen,
      started_callback=lambda: print("listening", flush=True))
print(f"{count} packets captured", flush=True)
