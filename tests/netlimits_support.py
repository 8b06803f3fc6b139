"""Loss and bandwidth limits on the media namespace's own addresses (10.231.0.0/30), for tests that must see a
weak network. The kernel here has no netem: loss is nftables' ``numgen random`` dropping packets, bandwidth a
``tbf`` qdisc. Both veth addresses live in the one namespace, so packets between them travel over ``lo``: the
tbf sits under an ``htb`` class on ``lo`` (the kernel here has no ``prio``) and only a ``u32`` filter matching
10.231.0.0/30 leads to it, so the
PostgreSQL and Redis bridges on 127.0.0.1 are never slowed. Only inside the media namespace (the caller
checks), and always removed again (context managers)."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import contextmanager

from tests.media_support import MEDIA_NET, require_media_netns

TABLE = "yz_selftest_limits"


def _run(*args: str, check: bool = True) -> None:
    subprocess.run(args, check=check, capture_output=True, timeout=10)


@contextmanager
def packet_loss(percent: int) -> Iterator[None]:
    """Drop ``percent`` % of the packets arriving from a media-namespace address (each direction)."""
    require_media_netns()
    _run("nft", "add", "table", "inet", TABLE)
    try:
        _run("nft", f"add chain inet {TABLE} c {{ type filter hook input priority 0; }}")
        _run("nft", "add", "rule", "inet", TABLE, "c", "ip", "saddr", str(MEDIA_NET), "ip", "daddr", str(MEDIA_NET),
             "numgen", "random", "mod", "100", "lt", str(percent), "drop")
        yield
    finally:
        _run("nft", "delete", "table", "inet", TABLE, check=False)


@contextmanager
def bandwidth(kbit: int) -> Iterator[None]:
    """Shape everything between media-namespace addresses to ``kbit`` kbit/s (both directions together)."""
    require_media_netns()
    _run("tc", "qdisc", "add", "dev", "lo", "root", "handle", "1:", "htb", "default", "1", "r2q", "100000")
    try:
        for classid in ("1:1", "1:3"):  # unlimited classes; the tbf under 1:3 does the shaping
            _run("tc", "class", "add", "dev", "lo", "parent", "1:", "classid", classid, "htb", "rate", "10gbit")
        _run("tc", "qdisc", "add", "dev", "lo", "parent", "1:3", "handle", "30:", "tbf", "rate", f"{kbit}kbit",
             "burst", "16kb", "latency", "200ms")
        _run("tc", "filter", "add", "dev", "lo", "parent", "1:", "protocol", "ip", "prio", "1", "u32",
             "match", "ip", "dst", str(MEDIA_NET), "flowid", "1:3")
        yield
    finally:
        _run("tc", "qdisc", "del", "dev", "lo", "root", check=False)
