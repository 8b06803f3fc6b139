"""System checks for the domain (registered in MediationConfig.ready)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.apps import AppConfig
from django.core.checks import CheckMessage, Error, Warning, register
from django.db import DatabaseError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from mediation.calendar import last_covered_year
from mediation.models import HolidayOverride


@register()
def check_calendar_coverage(
    *, app_configs: Sequence[AppConfig] | None = None, databases: Sequence[str] | None = None, **kwargs: Any
) -> list[CheckMessage]:
    """Warn when this year or next lies beyond the chinesecalendar data and no holidays were entered for it.

    Not tagged ``database`` (those run only with ``--database``): it runs with every command, so it guards
    its one small query and treats an unreachable or unmigrated database as "no overrides entered".
    """
    this_year = timezone.localdate().year
    uncovered = [year for year in (this_year, this_year + 1) if year > last_covered_year()]
    if not uncovered:
        return []
    try:
        # A savepoint keeps a failed query from poisoning a surrounding transaction on PostgreSQL.
        with transaction.atomic():
            entered = set(
                HolidayOverride.objects.filter(date__year__in=uncovered).values_list("date__year", flat=True)
            )
    except DatabaseError:  # OperationalError, ProgrammingError: no database, or not migrated yet
        entered = set()
    missing = [year for year in uncovered if year not in entered]
    if not missing:
        return []
    years = pgettext("list separator", "、").join(str(year) for year in missing)
    return [
        Warning(
            _("%(years)s 年超出 chinesecalendar 节假日数据范围（至 %(last)s 年），且尚未录入节假日调整。")
            % {"years": years, "last": last_covered_year()},
            hint=_(
                "这些年份的工作日期限只按周末计算，不含法定节假日和调休。"
                "请在管理后台“节假日调整”中录入国务院公布的放假和调休安排，或升级 chinesecalendar。"
            ),
            id="mediation.W001",
        )
    ]


@register()
def check_identity_provider(
    *, app_configs: Sequence[AppConfig] | None = None, databases: Sequence[str] | None = None, **kwargs: Any
) -> list[CheckMessage]:
    """The name-to-ID match needs a real provider in production, and the HTTP one needs its address."""
    from django.conf import settings

    if settings.IDENTITY_PROVIDER == "http" and not settings.IDENTITY_PROVIDER_URL:
        return [Error("IDENTITY_PROVIDER=http needs IDENTITY_PROVIDER_URL.", id="mediation.E002")]
    if settings.IDENTITY_PROVIDER == "development" and not settings.DEBUG:
        return [Error("IDENTITY_PROVIDER=development matches every name: not with DEBUG off.", id="mediation.E002")]
    return []
