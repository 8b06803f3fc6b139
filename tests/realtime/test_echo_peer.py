"""The self-test's echo peer (realtime/echo_peer.py) answers an aiortc client inside the media namespace: the
probe channel echoes, the bulk channel counts what goes up and paces what comes down; a process holds at most
its cap of peers and refuses one more clearly; every peer closes after its lifetime; a bad offer leaves none."""

from __future__ import annotations

import asyncio
import json
import time

import pytest
from aiortc import RTCPeerConnection, RTCSessionDescription

from realtime import echo_peer
from realtime.echo_peer import EchoBusy, EchoOfferInvalid, active_peers, echo_answer
from tests.media_support import in_media_net

pytestmark = [pytest.mark.media, pytest.mark.asyncio]


async def _client() -> tuple[RTCPeerConnection, object, object, object]:
    pc = RTCPeerConnection()
    probe = pc.createDataChannel("probe", ordered=False, maxRetransmits=0)
    bulk = pc.createDataChannel("bulk")
    ctl = pc.createDataChannel("ctl")
    await pc.setLocalDescription(await pc.createOffer())
    answer = await echo_answer(pc.localDescription.sdp)
    await pc.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))
    for channel in (probe, bulk, ctl):
        for _ in range(500):
            if channel.readyState == "open":
                break
            await asyncio.sleep(0.01)
        assert channel.readyState == "open"
    return pc, probe, bulk, ctl


async def _wait(condition, within: float = 5.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.02)


@pytest.fixture(autouse=True)
def _no_peers_from_other_loops():  # type: ignore[no-untyped-def]
    """Peers an earlier test's event loop left behind cannot be closed from this one: forget them."""
    echo_peer._peers.clear()
    yield
    echo_peer._peers.clear()


async def _closed_all() -> None:
    for peer in list(echo_peer._peers):
        await peer.close()


async def test_the_echo_peer_echoes_probes_counts_up_and_sends_down(settings):
    settings.SELFTEST_ECHO_MAX_PEERS, settings.SELFTEST_ECHO_SECONDS = 4, 20
    pc, probe, bulk, ctl = await _client()
    try:
        selected = pc.sctp.transport.transport._connection._nominated  # aioice's nominated pairs
        for candidate_pair in selected.values():
            assert in_media_net(candidate_pair.local_candidate.host), candidate_pair
            assert in_media_net(candidate_pair.remote_candidate.host), candidate_pair
        echoed: list[str] = []
        probe.on("message", echoed.append)
        for seq in range(10):
            probe.send(str(seq))
        await _wait(lambda: len(echoed) == 10)
        assert sorted(echoed, key=int) == [str(i) for i in range(10)]

        texts: list[dict] = []
        binary: list[int] = []
        bulk.on("message", lambda m: texts.append(json.loads(m)) if isinstance(m, str) else binary.append(len(m)))
        controls: list[dict] = []
        ctl.on("message", lambda m: controls.append(json.loads(m)))
        for _ in range(20):
            bulk.send(bytes(4096))
        await _wait(lambda: bulk.bufferedAmount == 0)
        await asyncio.sleep(0.2)
        ctl.send(json.dumps({"op": "up_end"}))
        await _wait(lambda: bool(controls))
        assert len(controls) == 1 and controls[0]["op"] == "up_result" and controls[0]["bytes"] == 20 * 4096
        assert 0 <= controls[0]["ms"] < 1000
        bulk.send(bytes(1000))
        bulk.send(json.dumps({"op": "up_end"}))  # on bulk itself: answered there, counting from the last up_end
        await _wait(lambda: any(t["op"] == "up_result" for t in texts))
        assert texts[-1] == {"op": "up_result", "bytes": 1000, "ms": 0}

        started = time.monotonic()
        ctl.send(json.dumps({"op": "down", "ms": 500, "kbps": 800}))
        await _wait(lambda: any(t["op"] == "down_end" for t in texts))
        took = time.monotonic() - started
        sent = texts[-1]["bytes"]
        assert sum(binary) == sent and 0 < sent <= 800 * 1000 / 8 * 0.5 + echo_peer.CHUNK  # paced, not flooded
        assert 0.45 < took < 2.0
        # what the peer will not do: a downlink beyond its caps is ignored
        bulk.send(json.dumps({"op": "down", "ms": 60_000, "kbps": 800}))
        await asyncio.sleep(0.3)
        assert sum(binary) == sent
    finally:
        await pc.close()
        await _closed_all()
    await _wait(lambda: active_peers() == 0)


async def test_one_peer_over_the_cap_is_refused_and_a_peer_lives_no_longer_than_its_lifetime(settings):
    settings.SELFTEST_ECHO_MAX_PEERS, settings.SELFTEST_ECHO_SECONDS = 1, 1
    pc, _probe, _bulk, _ctl = await _client()
    other = RTCPeerConnection()
    other.createDataChannel("probe")
    await other.setLocalDescription(await other.createOffer())
    try:
        assert active_peers() == 1
        with pytest.raises(EchoBusy):
            await echo_answer(other.localDescription.sdp)
        # the lifetime is up: the peer closes itself and makes room for the next
        await _wait(lambda: active_peers() == 0, within=4)
        await _wait(lambda: pc.connectionState in ("closed", "failed", "disconnected") or
                    pc.sctp.state == "closed", within=10)
        answer = await echo_answer(other.localDescription.sdp)
        assert "a=fingerprint" in answer and active_peers() == 1
    finally:
        await pc.close()
        await other.close()
        await _closed_all()


async def test_a_bad_offer_is_refused_and_leaves_no_peer(settings):
    settings.SELFTEST_ECHO_MAX_PEERS = 4
    with pytest.raises(EchoOfferInvalid):
        await echo_answer("v=0\r\nthis is not sdp\r\n")
    with pytest.raises(EchoOfferInvalid):
        await echo_answer("v=0\r\nm=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\na=garbage\r\n")
    assert active_peers() == 0
