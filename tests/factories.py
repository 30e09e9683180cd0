"""factory_boy factories for the domain."""

from datetime import date

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission

from assessments.models import Company, Evidence, Fund, Membership, Role, Task


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.django.Password("correct-horse-battery")


class FundFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Fund

    name = factory.Sequence(lambda n: f"Fund {n}")


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    fund = factory.SubFactory(FundFactory)
    role = Role.ASSOCIATE


class CompanyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Company

    fund = factory.SubFactory(FundFactory)
    name = factory.Sequence(lambda n: f"Company {n}")
    sector = "Legal"
    stage = "Series A"
    check_size = 5_000_000
    arr = 2_000_000


class TaskFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Task

    company = factory.SubFactory(CompanyFactory)
    name = factory.Sequence(lambda n: f"Task {n}")
    weight = 1.0


class EvidenceFactory(factory.django.DjangoModelFactory):
    """Evidence written straight to the table (no recompute): use services for the real path."""

    class Meta:
        model = Evidence

    task = factory.SubFactory(TaskFactory)
    factor = "system_access"
    stance = 1
    strength = 3
    confidence = "medium"
    observed_on = date(2026, 1, 1)
    note = "A note"


def make_rubric_owner(user):
    """Give the user the firm-level permission to change the rubric (as a superuser would
    in the admin); returns the user, reloaded so that no cached permissions hide it."""
    user.user_permissions.add(
        Permission.objects.get(codename="own_rubric", content_type__app_label="assessments")
    )
    return type(user).objects.get(pk=user.pk)
