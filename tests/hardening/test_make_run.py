"""Issue 17 item 7: `make run PORT=…` gives every link the site prints or sends that port (one setting,
SITE_URL, set from HOST and PORT), and the messages sent while seeding go to var/sms.log like the rest."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _dry_run(*args: str) -> list[str]:
    make = shutil.which("make")
    if make is None:
        pytest.skip("make is not installed")
    out = subprocess.run([make, "-n", "run", *args], cwd=ROOT, capture_output=True, text=True, check=True)
    return out.stdout.replace("'", "").splitlines()  # shell quoting aside


def test_make_run_on_another_port_sets_the_site_address_for_seeding_and_serving():
    lines = _dry_run("PORT=8101")
    seeding = [line for line in lines if "seed_demo" in line]
    serving = [line for line in lines if "run-demo.sh" in line]
    assert seeding and serving
    for line in seeding + serving:
        assert "SITE_URL=http://127.0.0.1:8101" in line, line
        assert "SMS_BACKEND=file" in line, line  # messages sent while seeding go to var/sms.log too


def test_a_site_url_given_by_the_developer_wins():
    lines = _dry_run("PORT=8101", "SITE_URL=http://192.0.2.10:8101")
    assert all("SITE_URL=http://192.0.2.10:8101" in line for line in lines if "seed_demo" in line)
