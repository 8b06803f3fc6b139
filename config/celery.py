"""The Celery application. Each task sits beside the service it runs (pretix's shape); the worker imports
those modules (``imports``), and the beat schedule (settings.CELERY_BEAT_SCHEDULE) names the tasks."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("yizhan")
app.config_from_object("django.conf:settings", namespace="CELERY")
# The registered names keep their historical ``*.tasks.*`` form, so queued messages and beat entries still match.
app.conf.imports = (
    "mediation.services.outbox",  # mediation.tasks.deliver_outbox
    "mediation.services.timer_sweep",  # mediation.tasks.sweep_due_timers
    "documents.services.issuing",  # documents.tasks.documents_for_transition
    "documents.services.failure",  # documents.tasks.failure_report_for_status
    "mediation.audit_anchor",  # mediation.tasks.audit_checkpoint
    "mediation.services.statistics_counters",  # mediation.tasks.statistics_counters_refresh(_case)
    "mediation.services.recording",  # mediation.tasks.recording_process
)
