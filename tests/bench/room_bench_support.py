"""Helpers for the room benchmarks: rooms of four ready members made in bulk, one uvicorn worker in a
subprocess against the test database and the Redis channel layer, percentiles, and the client loop."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import math
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

from django.utils import timezone

from mediation.choices import CaseStatus, ParticipantRole, PartyRole, RoomMemberState, SessionKind
from mediation.models import Agent, MediationSession, Party, Room, RoomMember
from mediation.services.room_entry import room_token_issue
from tests.process_support import database_url_for_subprocess

T = TypeVar("T")
ROOT = Path(__file__).resolve().parents[2]
HOST = "127.0.0.1"
PROJECT_APP = "config.asgi:application"
ANCHOR_APP = "tests.bench.anchor_asgi:application"


def bench_layer() -> str:
    """The channel layer of the project's worker in the benches: ``ROOM_BENCH_LAYER`` or the settings'
    default with Redis (the pub/sub layer, decisions D58)."""
    return os.environ.get("ROOM_BENCH_LAYER", "redis-pubsub")


def make_rooms(world, count: int) -> list[list[str]]:
    """``count`` open rooms of one case, each with its mediator, both parties and the respondent's lawyer
    admitted to the joint session with the identity check and notices done; returns, per room, the four
    socket paths with a fresh join token. Rows are written in bulk (the services would refuse the same
    people in ``count`` sessions at once, and a benchmark needs thousands of them in seconds)."""
    case = world.drive(world.new_case(), CaseStatus.IN_MEDIATION)
    applicant = Party.objects.get(case=case, role=PartyRole.APPLICANT)
    respondent = Party.objects.get(case=case, role=PartyRole.RESPONDENT)
    lawyer = Agent.objects.get(party=respondent)
    start = timezone.now() + dt.timedelta(minutes=5)
    sessions = MediationSession.objects.bulk_create(
        [MediationSession(case=case, kind=SessionKind.JOINT_ONLINE, starts_at=start + dt.timedelta(hours=n),
                          ends_at=start + dt.timedelta(hours=n, minutes=50), created_by=world.mediator)
         for n in range(count)]
    )
    rooms = Room.objects.bulk_create([Room(session=s, case=case, opened_by=world.mediator) for s in sessions])
    now = timezone.now()
    people = [
        (world.mediator, None, ParticipantRole.MEDIATOR, ""),
        (world.applicant, applicant, ParticipantRole.PARTY, PartyRole.APPLICANT),
        (world.respondent, respondent, ParticipantRole.PARTY, PartyRole.RESPONDENT),
        (lawyer.user, respondent, ParticipantRole.AGENT, PartyRole.RESPONDENT),
    ]
    members = RoomMember.objects.bulk_create([
        RoomMember(room=room, user=user, party=party, role=role, side=side, display_name=user.real_name or "x",
                   state=RoomMemberState.ADMITTED, identity_checked_at=now, notices_acknowledged_at=now,
                   admitted_at=now)
        for room in rooms for user, party, role, side in people
    ])
    urls: dict[int, list[str]] = {room.pk: [] for room in rooms}
    for member in members:
        token, _row = room_token_issue(member=member)
        urls[member.room_id].append(f"/ws/room/{member.room_id}/?token={token}")
    return list(urls.values())


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def uvicorn_worker(*, extra_env: dict[str, str] | None = None, app: str = PROJECT_APP, workers: int = 1,
                   layer: str | None = None) -> Iterator[str]:
    """One uvicorn worker (uvloop, websockets-sansio) serving ``config.asgi`` with production settings
    (DEBUG off) on the test database and the Redis channel layer. Yields the site's origin URL.
    ``app=ANCHOR_APP``: the anchor (tests/bench/anchor_asgi.py) instead; ``workers=2``: two uvicorn worker
    processes on one port (the kernel spreads the connections); ``layer``: ``redis`` or ``redis-pubsub``
    (default ``ROOM_BENCH_LAYER``, else ``redis``)."""
    if not os.environ.get("REDIS_URL"):
        raise RuntimeError("the room benchmarks need REDIS_URL (make bench sets it)")
    port = free_port()
    env = {
        **os.environ,
        "DEBUG": "0", "SECRET_KEY": "bench-only-" + "x" * 40, "ALLOWED_HOSTS": f"{HOST},localhost",
        "SECURE_SSL_REDIRECT": "0", "DATABASE_URL": database_url_for_subprocess(),
        # ROOM_BENCH_LAYER=redis-pubsub: the same worker on channels_redis' pub/sub layer.
        "CHANNEL_LAYER": layer or bench_layer(),
        "LOG_LEVEL": "WARNING", "SMS_BACKEND": "console", "SIGNING_CA": "local", **(extra_env or {}),
    }
    # ROOM_BENCH_PROFILE=<file>: profile the worker's event loop thread with cProfile (pstats file).
    profile = os.environ.get("ROOM_BENCH_PROFILE")
    # ROOM_BENCH_PYSPY=<file>: sample the worker (every thread, idle ones left out) with py-spy, collapsed
    # stacks in <file> (py-spy is not pinned: `pip install py-spy` into the venv to use it).
    pyspy = os.environ.get("ROOM_BENCH_PYSPY")
    sampler = [str(Path(sys.executable).with_name("py-spy")), "record", "-f", "raw", "-r", "200", "-o", pyspy, "--"]
    command = [
        *(sampler if pyspy and app == PROJECT_APP else []),
        sys.executable, *(["-m", "cProfile", "-o", profile] if profile else []),
        "-m", "uvicorn", app, "--workers", str(workers), "--host", HOST, "--port", str(port),
        "--loop", os.environ.get("ROOM_BENCH_LOOP", "uvloop"), "--ws", "websockets-sansio",
        "--ws-ping-interval", "0", "--no-access-log", "--log-level", "warning", "--backlog", "4096",
        "--lifespan", "off",
    ]
    process = subprocess.Popen(command, cwd=ROOT, env=env)
    try:
        deadline = time.monotonic() + 60  # Django's start-up alone takes seconds on a loaded machine
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"uvicorn exited with {process.returncode}")
            with contextlib.suppress(OSError), socket.create_connection((HOST, port), timeout=0.2):
                break
            if time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not listen within 60 s")
            time.sleep(0.05)
        yield f"http://{HOST}:{port}"
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def run_async(coro: Coroutine[Any, Any, T]) -> T:
    """Run the client side on uvloop: the clients share the machine with the server being measured."""
    import uvloop

    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(coro)


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100) of ``values``; NaN for none."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[max(1, min(len(ordered), math.ceil(p / 100 * len(ordered)))) - 1]


def cores() -> str:
    return f"{os.cpu_count()} cores"
