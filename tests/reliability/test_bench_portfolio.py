"""The benchmark's portfolio (bench/common.build_portfolio) against today's schema.

It writes evidence with one raw INSERT ... SELECT (500,000 rows in seconds): a column added
to the model without a value there breaks `make bench`, and nothing else would notice.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from django.db import connection

from assessments import recompute, scoring, selectors
from assessments.models import Company, Evidence, Task
from tests.conftest import need

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from common import build_portfolio

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def test_the_bench_portfolio_builds_and_scores_as_the_model_does():
    need(connection.vendor == "postgresql", "the bench portfolio is built with PostgreSQL's SQL")
    build_portfolio(funds=2, companies=4, tasks_per_company=2, evidence=400)
    assert Company.objects.count() == 4 and Task.objects.count() == 8
    assert Evidence.objects.counting().count() == 400
    verified = Evidence.objects.filter(verified_at__isnull=False)
    # A verified note is verified at its current content (an edit would unverify it).
    assert verified.exists() and all(e.verified_version == e.content_version for e in verified)
    recompute.rescore_everything()
    rubric = selectors.active_rubric_version().to_rubric()
    for task in Task.objects.all():
        rows = [e.as_scoring_row() for e in Evidence.objects.filter(task=task)]
        expected = scoring.score_task(rows, selectors.today(), rubric)
        task.refresh_from_db()
        assert task.x == pytest.approx(expected.x) and task.y == pytest.approx(expected.y)
