"""Where WebRTC tests run: inside the media network namespace of scripts/media-netns.sh (a veth pair,
10.231.0.1/30 and 10.231.0.2/30, both ends in the namespace), never over this machine's own interfaces.
Tests marked ``media`` fail at once outside it (tests/conftest.py); `make test` runs pytest inside it."""

from __future__ import annotations

import ipaddress
import socket

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
