"""Where WebRTC tests run: inside the media network namespace of scripts/media-netns.sh (a veth pair,
10.231.0.1/30 and 10.231.0.2/30, both ends in the namespace), never over this machine's own interfaces.
Tests marked ``media`` fail at once outside it (tests/conftest.py); `make test` runs pytest inside it."""

from __future__ import annotations

import ipaddress
import socket
import subprocess

import pytest

MEDIA_NET = ipaddress.ip_network("10.231.0.0/30")
MEDIA_ADDRESSES = ("10.231.0.1", "10.231.0.2")


def in_media_netns() -> bool:
    """This process runs inside the media namespace: its veth addresses are local (binding to them works)."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.bind((MEDIA_ADDRESSES[0], 0))
    except OSError:
        return False
    return True


def require_media_netns() -> None:
    """Media tests refuse to run where WebRTC would pair over this machine's own interface addresses."""
    if not in_media_netns():
        pytest.fail(
            "WebRTC tests run inside the media network namespace (10.231.0.0/30), never over this machine's "
            "interfaces: run them with `make test`, or `scripts/media-netns.sh exec yizhan-test .venv/bin/pytest ...`"
        )


def in_media_net(address: str) -> bool:
    return ipaddress.ip_address(address) in MEDIA_NET


NFT_TABLE = "yizhan_cut"


def cut_media_path() -> None:
    """Cut every packet to or from the namespace's veth addresses (10.231.0.0/30): ICE, RTP, TURN; a network
    drop for every WebRTC connection of the test (the kernel here has no netem). nftables of this namespace only:
    the loopback bridges to PostgreSQL and Redis, the app's socket and Janus's WebSocket on 127.0.0.1 are
    untouched. Always paired with ``restore_media_path`` (in a ``finally``)."""
    require_media_netns()
    net = str(MEDIA_NET)
    rules = (
        f"table inet {NFT_TABLE} {{\n"
        f"  chain input {{ type filter hook input priority -10; ip saddr {net} drop; ip daddr {net} drop; }}\n"
        f"  chain output {{ type filter hook output priority -10; ip saddr {net} drop; ip daddr {net} drop; }}\n"
        "}\n"
    )
    subprocess.run(["nft", "-f", "-"], input=rules, text=True, check=True)


def restore_media_path() -> None:
    """Undo ``cut_media_path`` (harmless when nothing was cut)."""
    subprocess.run(["nft", "delete", "table", "inet", NFT_TABLE], check=False, capture_output=True)
