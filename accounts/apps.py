from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.core import checks

        from accounts import signals  # noqa: F401
        from backend.translations import compiled_check

        checks.register(compiled_check, checks.Tags.translation)
