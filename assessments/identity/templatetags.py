from django import template
from django.conf import settings

register = template.Library()


@register.simple_tag
def sso_settings() -> dict:
    """Whether the sign-in page offers the identity provider, and whether only it."""
    return {
        "enabled": settings.OIDC_ENABLED,
        "only": settings.SSO_ONLY,
        "provider": settings.OIDC_PROVIDER_NAME,
    }
