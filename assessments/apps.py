from importlib import import_module

from django.apps import AppConfig

# The contexts beside the domain, each a sub-package laid out like the domain (models,
# services, views, urls, jobs); docs/architecture.md says why they are not apps of their own.
CONTEXTS = ("identity", "notifications")


class AssessmentsConfig(AppConfig):
    name = "assessments"
    verbose_name = "Assessments"
    default_auto_field = "django.db.models.BigAutoField"

    def import_models(self):
        # The contexts' tables belong to this app (their migrations are its migrations), so
        # their models are imported with the domain's, while the domain imports none of them.
        super().import_models()
        for context in CONTEXTS:
            import_module(f"{self.name}.{context}.models")

    def ready(self):
        # The domain announces what it wrote; the contexts listen (the domain never calls them).
        from . import signals
        from .notifications import alerting

        signals.alerts_written.connect(alerting.on_alerts_written)
        signals.burst_states.connect(alerting.on_burst_query)
        # Connects the signals that revoke tokens (a password change, a deactivation, the
        # last fund left), whichever path makes the change.
        from .identity import tokens  # noqa: F401
