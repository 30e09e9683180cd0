from django.apps import AppConfig


class AssessmentsConfig(AppConfig):
    name = "assessments"
    verbose_name = "Assessments"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Connects the signals that revoke tokens (a password change, a deactivation, the
        # last fund left), whichever path makes the change.
        from . import tokens  # noqa: F401
