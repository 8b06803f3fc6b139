"""Helpers for tests that start another process (a Celery worker, a uvicorn worker for a benchmark)."""

from __future__ import annotations

from django.db import connection


def database_url_for_subprocess() -> str:
    """The test database pytest-django created (``test_<name>``), as a DATABASE_URL for another process."""
    db = connection.settings_dict
    user, password = db.get("USER") or "", db.get("PASSWORD") or ""
    auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    return f"postgres://{auth}{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{db['NAME']}"
