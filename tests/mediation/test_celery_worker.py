"""The sweep on the production path: Celery beat schedules it, a real worker on Redis runs it against
the test database, and a due timer fires exactly once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mediation.choices import CaseStatus, TimerKind, TimerStatus
from mediation.models import AuditEvent, Timer
from tests.process_support import database_url_for_subprocess

pytestmark = [pytest.mark.celery, pytest.mark.redis, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]


def _delete_keys(redis_url: str, prefix: str) -> None:
    """Remove only what this worker created: the test Redis DB is ours, but never flushed wholesale."""
    import redis

    client = redis.Redis.from_url(redis_url)
    try:
        for key in client.scan_iter(match=f"{prefix}:*", count=500):
            client.delete(key)
    finally:
        client.close()


def test_beat_and_a_real_worker_fire_a_due_timer_once(world, tmp_path):
    redis_url = os.environ.get("REDIS_URL")
    if not redis_url:
        pytest.fail("REDIS_URL is not set, but this test runs a real Celery worker on Redis (see README).")
    case = world.drive(world.new_case(), CaseStatus.IN_MEDIATION)
    period = Timer.objects.get(case=case, kind=TimerKind.MEDIATION_PERIOD)
    Timer.objects.filter(pk=period.pk).update(due_at=period.started_at)  # due already

    env = {
        **os.environ,
        "DATABASE_URL": database_url_for_subprocess(),
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "CELERY_BROKER_URL": redis_url,
        "REDIS_PREFIX": f"{os.environ.get('REDIS_PREFIX', 'yizhan-test')}-worker-{os.getpid()}",
        "TIMER_SWEEP_SECONDS": "5",
    }
    log = tmp_path / "worker.log"
    with log.open("w") as out:
        worker = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "worker", "--beat", "--pool", "solo",
             "--loglevel", "INFO", "--schedule", str(tmp_path / "beat-schedule"), "--without-heartbeat",
             "--without-gossip", "--without-mingle"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            period.refresh_from_db()
            if period.status == TimerStatus.FIRED:
                break
            assert worker.poll() is None, log.read_text()
            time.sleep(0.5)
        else:
            pytest.fail(f"the worker did not fire the timer within 60 s:\n{log.read_text()[-3000:]}")
        # Let beat run the sweep at least once more: the fired timer must not fire again.
        time.sleep(6)
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(timeout=20)
        _delete_keys(redis_url, env["REDIS_PREFIX"])
    expired = AuditEvent.objects.filter(case=case, kind="timer.expired", data__kind=TimerKind.MEDIATION_PERIOD)
    assert expired.count() == 1
    assert "mediation.tasks.sweep_due_timers" in log.read_text()
