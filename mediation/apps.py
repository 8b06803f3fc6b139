from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MediationConfig(AppConfig):
    name = "mediation"
    verbose_name = _("调解")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Here, not at module level: these import models, which Django loads after the app configs.
        from mediation import checks, receivers, signals  # noqa: F401  (checks registers the system checks)
        from mediation.services import service, statistics_counters

        signals.outbox_drained.connect(service.on_outbox_drained, dispatch_uid="mediation.service.after_drain")
        receivers.connect()
        signals.case_status_changed.connect(statistics_counters.on_case_status_changed,
                                            dispatch_uid="mediation.statistics_counters.status_changed")
