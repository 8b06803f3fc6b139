from django.apps import AppConfig


class DocumentsConfig(AppConfig):
    name = "documents"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from documents import checks, receivers  # noqa: F401  (checks registers the CJK font check)

        receivers.connect()
