from django.apps import AppConfig


class FrontendConfig(AppConfig):
    name = "frontend"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from frontend.views.accessibility import carry_elder_mode_into_account

        user_logged_in.connect(carry_elder_mode_into_account, dispatch_uid="frontend.elder_mode")
