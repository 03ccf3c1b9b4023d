"""``make demo HOST=...``: the host names the demo answers to, and how to reach it.

Loopback (the default, 127.0.0.1) needs nothing. Another address is added to
ALLOWED_HOSTS; 0.0.0.0 (every interface) adds this machine's name and addresses, so that
another machine on the network can open it.

    python -m deploy.demo_host --allowed HOST   # the ALLOWED_HOSTS value
    python -m deploy.demo_host --urls HOST PORT # what to open, one URL a line
"""

import contextlib
import ipaddress
import os
import socket
import sys

LOOPBACK = ["127.0.0.1", "localhost", "[::1]"]


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    with contextlib.suppress(ValueError):
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    return False


def this_machine() -> list[str]:
    """Its name, and the address it reaches the network from (no packet is sent)."""
    names = [socket.gethostname()]
    with contextlib.suppress(OSError), socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        udp.connect(("192.0.2.1", 9))  # TEST-NET-1: only picks the outgoing interface
        names.append(udp.getsockname()[0])
    return [name for name in names if name and not is_loopback(name)]


def reachable_as(host: str) -> list[str]:
    if is_loopback(host):
        return []
    if host in ("0.0.0.0", "::", "[::]"):
        return this_machine()
    return [f"[{host}]" if ":" in host and not host.startswith("[") else host]


def allowed_hosts(host: str) -> str:
    configured = os.environ.get("ALLOWED_HOSTS")
    base = configured.split(",") if configured else LOOPBACK
    return ",".join(dict.fromkeys([*base, *reachable_as(host)]))


def urls(host: str, port: str) -> list[str]:
    names = reachable_as(host) or ["127.0.0.1"]
    return [f"http://{name}:{port}/" for name in names]


def main(argv) -> int:
    if argv[:1] == ["--allowed"]:
        print(allowed_hosts(argv[1]))
    elif argv[:1] == ["--urls"]:
        print("\n".join(urls(argv[1], argv[2])))
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
