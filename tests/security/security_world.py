"""Shared set-up of the security tests: one fund with a member of each role, another
fund with its own partner, every URL pattern from the resolver, and row counts."""

from __future__ import annotations

from dataclasses import dataclass

from django.apps import apps
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from assessments import selectors
from assessments.models import Company, Evidence, Fund, Membership, Role, RubricVersion, Task
from tests.factories import (
    CompanyFactory,
    EvidenceFactory,
    FundFactory,
    MembershipFactory,
    TaskFactory,
    UserFactory,
)

ANON, OTHER, VIEWER, ASSOCIATE, PARTNER = (
    "anonymous",
    "other_fund",
    "viewer",
    "associate",
    "partner",
)
ROLES = (ANON, OTHER, VIEWER, ASSOCIATE, PARTNER)
FAST_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@dataclass
class World:
    fund: Fund
    other_fund: Fund
    users: dict
    memberships: dict[str, Membership]
    company: Company
    task: Task
    evidence: Evidence
    draft_rubric: RubricVersion

    def client(self, role: str, **kwargs) -> Client:
        client = Client(**kwargs)
        if role != ANON:
            client.force_login(self.users[role])
        return client


def build_world(**text) -> World:
    """The fund under test, with one member per role; `text` overrides names (hostile tests)."""
    selectors.active_rubric_version()  # the defaults exist before any request reads them
    fund = FundFactory(**text.get("fund", {}))
    other_fund = FundFactory()
    users, memberships = {}, {}
    for role in (VIEWER, ASSOCIATE, PARTNER):
        memberships[role] = MembershipFactory(
            fund=fund, role=role, user=UserFactory(username=f"the_{role}")
        )
        users[role] = memberships[role].user
    memberships[OTHER] = MembershipFactory(
        fund=other_fund, role=Role.PARTNER, user=UserFactory(username="other_partner")
    )
    users[OTHER] = memberships[OTHER].user
    company = CompanyFactory(fund=fund, **text.get("company", {}))
    task = TaskFactory(company=company, **text.get("task", {}))
    evidence = EvidenceFactory(task=task, author=users[ASSOCIATE], **text.get("evidence", {}))
    CompanyFactory(fund=other_fund)
    draft = RubricVersion.objects.create(number=2, name=text.get("rubric_name", "Draft"))
    return World(fund, other_fund, users, memberships, company, task, evidence, draft)


def url_names() -> set[str]:
    """Every named URL pattern from the resolver, namespaced ("admin:index")."""
    names: set[str] = set()
    unnamed: list[str] = []

    def walk(patterns, namespace: str, prefix: str) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                ns = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
                walk(pattern.url_patterns, ns, prefix + str(pattern.pattern))
            elif isinstance(pattern, URLPattern):
                if pattern.name:
                    names.add(namespace + pattern.name)
                elif not namespace.startswith("admin:"):
                    unnamed.append(prefix + str(pattern.pattern))

    walk(get_resolver().url_patterns, "", "")
    assert not unnamed, f"URL patterns without a name cannot get a matrix row: {unnamed}"
    return names


def row_counts() -> dict[str, int]:
    """The number of rows of every model (history and sessions included)."""
    return {
        model._meta.label: model._default_manager.count()
        for model in apps.get_models(include_auto_created=True)
    }
