"""The demo portfolio: two funds of fictional companies modelled on the essay's archetypes.

Deterministic (a seeded generator), so every machine gets the same map, and
idempotent: loading it twice changes nothing.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from . import recompute, selectors
from .models import Company, CompanyStatus, Evidence, Fund, Membership, Role, Task

DEMO_PASSWORD = "moatmap-demo"
# One demo user per role, a member of both demo funds.
DEMO_USERS = (
    ("partner", Role.PARTNER),
    ("associate", Role.ASSOCIATE),
    ("viewer", Role.VIEWER),
)
FUNDS = ("Northbridge Ventures III", "Northbridge Growth I")


@dataclass(frozen=True)
class Archetype:
    name: str
    fund: int
    sector: str
    stage: str
    status: str
    check_size: int
    arr: int
    description: str
    # task name, weight, {factor: (probability the evidence supports it, typical strength)}
    tasks: tuple[tuple[str, float, dict[str, tuple[float, int]]], ...]
    # how the picture drifts over two years: factors whose support grows over time
    rising: tuple[str, ...] = ()


ARCHETYPES = (
    Archetype(
        "Lexbench",
        0,
        "Legal",
        "Series B",
        CompanyStatus.PORTFOLIO,
        12_000_000,
        9_500_000,
        "Legal AI that owns the private benchmark its customers judge contract review by.",
        (
            (
                "First-pass review of M&A purchase agreements",
                3,
                {
                    "private_eval": (0.9, 5),
                    "accountability": (0.7, 4),
                    "system_access": (0.8, 4),
                    "frontier_model_parity": (0.35, 3),
                    "public_benchmark": (0.3, 2),
                    "tacit_judgment": (0.85, 4),
                    "long_feedback_loop": (0.7, 3),
                },
            ),
            (
                "Clause extraction into the deal room",
                1,
                {
                    "cheap_verification": (0.7, 3),
                    "open_model_parity": (0.6, 3),
                    "workflow_depth": (0.6, 3),
                    "proprietary_data": (0.6, 3),
                },
            ),
        ),
        rising=("frontier_model_parity",),
    ),
    Archetype(
        "Resolvd",
        0,
        "Customer support",
        "Series A",
        CompanyStatus.PORTFOLIO,
        8_000_000,
        6_000_000,
        "Support agent paid per resolution; owns what 'resolved' means at each customer.",
        (
            (
                "Resolve tier-1 tickets end to end",
                3,
                {
                    "outcome_pricing": (0.95, 5),
                    "private_eval": (0.8, 4),
                    "system_access": (0.75, 4),
                    "frontier_model_parity": (0.55, 3),
                    "public_training_data": (0.6, 2),
                    "workflow_depth": (0.7, 3),
                },
            ),
            (
                "Draft replies for human agents",
                1,
                {
                    "frontier_model_parity": (0.85, 4),
                    "lab_first_party": (0.7, 3),
                    "open_model_parity": (0.7, 3),
                    "portable_workflow": (0.75, 3),
                },
            ),
        ),
        rising=("lab_first_party", "frontier_model_parity"),
    ),
    Archetype(
        "Wardround",
        0,
        "Healthcare",
        "Series B",
        CompanyStatus.PORTFOLIO,
        15_000_000,
        11_000_000,
        "Clinical-answers tool that doctors open every day at the bedside.",
        (
            (
                "Point-of-care clinical answers",
                2,
                {
                    "user_habit": (0.95, 5),
                    "accountability": (0.8, 4),
                    "private_eval": (0.6, 3),
                    "frontier_model_parity": (0.5, 3),
                    "public_benchmark": (0.6, 3),
                    "time_in_production": (0.85, 4),
                },
            ),
            (
                "Discharge summary drafting in the EHR",
                1,
                {
                    "system_access": (0.9, 5),
                    "proprietary_data": (0.85, 4),
                    "workflow_depth": (0.8, 4),
                    "long_feedback_loop": (0.7, 3),
                },
            ),
        ),
    ),
    Archetype(
        "Patchwise",
        0,
        "Developer tools",
        "Series A",
        CompanyStatus.PORTFOLIO,
        10_000_000,
        7_000_000,
        "Coding agent for pull-request work: verified by compilers and tests.",
        (
            (
                "Write and fix code from issues",
                3,
                {
                    "cheap_verification": (0.95, 5),
                    "public_benchmark": (0.9, 5),
                    "public_training_data": (0.9, 4),
                    "frontier_model_parity": (0.75, 4),
                    "lab_first_party": (0.8, 4),
                    "system_access": (0.25, 2),
                    "portable_workflow": (0.9, 5),
                },
            ),
            (
                "Migrations across a customer's monorepo",
                1,
                {
                    "proprietary_data": (0.7, 3),
                    "workflow_depth": (0.65, 3),
                    "cheap_verification": (0.7, 3),
                    "long_feedback_loop": (0.5, 2),
                },
            ),
        ),
        rising=("lab_first_party", "frontier_model_parity"),
    ),
    Archetype(
        "Tensorhaus",
        1,
        "AI infrastructure",
        "Series C",
        CompanyStatus.PORTFOLIO,
        30_000_000,
        40_000_000,
        "Inference provider serving open models at the lowest price per token.",
        (
            (
                "Serve open-weight models by the token",
                1,
                {
                    "open_model_parity": (0.9, 4),
                    "cheap_verification": (0.8, 4),
                    "public_benchmark": (0.85, 4),
                    "portable_workflow": (0.9, 4),
                    "system_access": (0.4, 2),
                },
            ),
        ),
    ),
    Archetype(
        "ChatCanvas",
        1,
        "Productivity",
        "Seed",
        CompanyStatus.PORTFOLIO,
        2_000_000,
        800_000,
        "A thin chat wrapper over frontier models with a nicer interface.",
        (
            (
                "General chat and writing help",
                1,
                {
                    "frontier_model_parity": (0.95, 5),
                    "lab_first_party": (0.95, 5),
                    "public_training_data": (0.9, 4),
                    "portable_workflow": (0.9, 4),
                    "user_habit": (0.35, 2),
                },
            ),
        ),
        rising=("lab_first_party",),
    ),
    Archetype(
        "Paystack Cloud",
        1,
        "HR & payroll",
        "Growth",
        CompanyStatus.PORTFOLIO,
        25_000_000,
        60_000_000,
        "Payroll platform that files taxes and carries liability for getting them right.",
        (
            (
                "Run payroll and file payroll taxes",
                3,
                {
                    "accountability": (0.95, 5),
                    "system_access": (0.9, 5),
                    "time_in_production": (0.95, 5),
                    "workflow_depth": (0.85, 4),
                    "cheap_verification": (0.5, 3),
                    "long_feedback_loop": (0.6, 3),
                },
            ),
            (
                "Answer employee payroll questions",
                1,
                {
                    "frontier_model_parity": (0.8, 4),
                    "public_training_data": (0.6, 3),
                    "proprietary_data": (0.7, 3),
                    "lab_first_party": (0.5, 2),
                },
            ),
        ),
    ),
    Archetype(
        "Ledgerline",
        1,
        "Fintech",
        "Series B",
        CompanyStatus.PORTFOLIO,
        18_000_000,
        14_000_000,
        "Reconciliation agent with production access to banks' ledgers.",
        (
            (
                "Reconcile bank ledgers nightly",
                2,
                {
                    "system_access": (0.9, 5),
                    "proprietary_data": (0.9, 4),
                    "accountability": (0.7, 3),
                    "long_feedback_loop": (0.7, 3),
                    "tacit_judgment": (0.6, 3),
                    "cheap_verification": (0.4, 2),
                },
            ),
        ),
    ),
    Archetype(
        "Claimsight",
        0,
        "Insurance",
        "Series A",
        CompanyStatus.PIPELINE,
        6_000_000,
        3_000_000,
        "Claims triage for insurers, paid per claim settled without rework.",
        (
            (
                "Triage and settle simple claims",
                2,
                {
                    "outcome_pricing": (0.8, 4),
                    "proprietary_data": (0.8, 4),
                    "tacit_judgment": (0.7, 3),
                    "frontier_model_parity": (0.5, 3),
                    "public_training_data": (0.3, 2),
                },
            ),
            (
                "Extract facts from claim documents",
                1,
                {
                    "open_model_parity": (0.8, 4),
                    "cheap_verification": (0.6, 3),
                    "public_benchmark": (0.6, 3),
                },
            ),
        ),
    ),
    Archetype(
        "Transly",
        1,
        "Localization",
        "Series A",
        CompanyStatus.PASSED,
        0,
        2_500_000,
        "Document translation with a glossary per customer.",
        (
            (
                "Translate marketing and product copy",
                1,
                {
                    "public_benchmark": (0.9, 4),
                    "frontier_model_parity": (0.9, 5),
                    "open_model_parity": (0.8, 4),
                    "proprietary_data": (0.4, 2),
                },
            ),
        ),
        rising=("open_model_parity",),
    ),
    Archetype(
        "Gridmind",
        1,
        "Energy",
        "Seed",
        CompanyStatus.PIPELINE,
        3_000_000,
        500_000,
        "Grid-dispatch recommendations whose correctness shows only seasons later.",
        (
            (
                "Recommend day-ahead dispatch",
                1,
                {
                    "long_feedback_loop": (0.9, 4),
                    "tacit_judgment": (0.7, 3),
                    "system_access": (0.6, 3),
                    "public_benchmark": (0.3, 2),
                },
            ),
        ),
    ),
)

SOURCES = (
    "Customer reference call",
    "Board deck",
    "Product demo",
    "Security review report",
    "Public leaderboard",
    "Model lab release notes",
    "Pricing page",
    "Churn analysis",
    "Expert network call",
    "Usage telemetry shared by the company",
)


def demo_notes(rng: random.Random, company: str, factor: str, supports: bool) -> str:
    what = factor.replace("_", " ")
    verdict = "supports" if supports else "cuts against"
    detail = rng.choice(
        (
            "Heard directly from the buyer, not from the company.",
            "Consistent with what two other customers told us.",
            "One data point; worth re-checking next quarter.",
            "The company shared the underlying numbers.",
        )
    )
    return f"**{what.capitalize()}**: this {verdict} the thesis for {company}.\n\n{detail}"


def load_demo(*, today: date | None = None) -> dict:
    """Create the demo funds, companies, tasks, evidence and users, unless they exist."""
    today = today or selectors.today()
    User = get_user_model()
    users = {}
    for username, _role in DEMO_USERS:
        user, created = User.objects.get_or_create(
            username=username, defaults={"email": f"{username}@example.com"}
        )
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save()
        users[username] = user
    created_evidence = 0
    with transaction.atomic():
        funds = [Fund.objects.get_or_create(name=name)[0] for name in FUNDS]
        for fund in funds:
            for username, role in DEMO_USERS:
                Membership.objects.get_or_create(
                    user=users[username], fund=fund, defaults={"role": role}
                )
        for index, archetype in enumerate(ARCHETYPES):
            company, created = Company.objects.get_or_create(
                fund=funds[archetype.fund],
                name=archetype.name,
                defaults={
                    "sector": archetype.sector,
                    "stage": archetype.stage,
                    "status": archetype.status,
                    "check_size": archetype.check_size or None,
                    "arr": archetype.arr,
                    "description": archetype.description,
                    "lead_partner": users["partner"],
                },
            )
            if not created:
                continue
            rng = random.Random(1000 + index)
            for task_name, weight, factors in archetype.tasks:
                task = Task.objects.create(company=company, name=task_name, weight=weight)
                created_evidence += _demo_evidence(
                    rng, company, task, factors, archetype.rising, users, today
                )
    if created_evidence:
        _backfill_history(today)
    return {
        "users": users,
        "evidence": created_evidence,
        "funds": len(FUNDS),
        "companies": len(ARCHETYPES),
    }


def _demo_evidence(rng, company, task, factors, rising, users, today) -> int:
    rows = []
    start = today - timedelta(days=2 * 365 + 60)
    for factor, (p_support, strength) in factors.items():
        for _ in range(rng.randint(3, 6)):
            offset = rng.randint(0, (today - start).days)
            observed_on = start + timedelta(days=offset)
            p = p_support
            if factor in rising:
                # The ground shrinks: what models can do gains support over time.
                p = min(0.97, p_support * (0.5 + offset / (today - start).days))
            supports = rng.random() < p
            verified = rng.random() < 0.75
            rows.append(
                Evidence(
                    task=task,
                    factor=factor,
                    stance=1 if supports else -1,
                    strength=max(1, min(5, strength + rng.choice((-1, 0, 0, 1)))),
                    confidence=rng.choice(("low", "medium", "medium", "high", "high")),
                    observed_on=observed_on,
                    observed_day=observed_on.toordinal(),
                    source=rng.choice(SOURCES),
                    note=demo_notes(rng, company.name, factor, supports),
                    author=users["associate"],
                    verified_by=users["partner"] if verified else None,
                    verified_at=timezone.now() if verified else None,
                )
            )
    # With history rows alongside: bulk writes must not slip past the audit trail.
    bulk_create_with_history(rows, Evidence, batch_size=1000)
    return len(rows)


def _backfill_history(today: date) -> None:
    """Month-end snapshots for the last two years, so that score history shows movement."""
    month = date(today.year - 2, today.month, 1)
    while month < today:
        next_month = date(month.year + (month.month // 12), month.month % 12 + 1, 1)
        recompute.rescore_companies(as_of=min(next_month - timedelta(days=1), today))
        month = next_month
    recompute.rescore_everything(as_of=today)
