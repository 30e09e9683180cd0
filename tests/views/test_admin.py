"""The Django admin serves every model of the domain."""

import pytest
from django.contrib import admin
from django.urls import reverse

from assessments.models import Evidence
from tests.factories import EvidenceFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_every_domain_model_has_a_working_admin(client):
    EvidenceFactory()
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    models = [m for m in admin.site._registry if m._meta.app_label == "assessments"]
    assert Evidence in models and len(models) == 9
    for model in models:
        opts = model._meta
        changelist = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
        assert client.get(changelist).status_code == 200, changelist
        assert (
            client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_add")).status_code == 200
        )
