from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ApiConfig(AppConfig):
    name = "api"
    verbose_name = _("开放接口")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from api import receivers, webhooks
        from mediation.services import outbox

        receivers.connect()
        outbox.EXTERNAL_SENDERS[webhooks.CHANNEL] = webhooks.webhook_send
