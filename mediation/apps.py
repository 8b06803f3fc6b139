from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MediationConfig(AppConfig):
    name = "mediation"
    verbose_name = _("调解")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from mediation import (
            checks,  # noqa: F401  (registers system checks)
            receivers,
        )

        receivers.connect()
