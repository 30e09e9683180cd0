"""Configuration from the environment, and production's refusals."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def django_check(**env) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DEBUG"}}
    return subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_production_refuses_to_start_without_a_secret_key():
    result = django_check(DEBUG="false")
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_production_refuses_a_weak_secret_key():
    result = django_check(DEBUG="false", SECRET_KEY="short")
    assert result.returncode != 0 and "too weak" in result.stderr


def test_debug_runs_with_a_development_key():
    assert django_check(DEBUG="true").returncode == 0


@pytest.mark.django_db
def test_the_defaults_are_the_first_active_rubric_version():
    from assessments import scoring, selectors

    # The data migration creates it; a flushed test database gets it on first use.
    version = selectors.active_rubric_version()
    assert version.number == 1
    assert version.to_rubric() == scoring.DEFAULT_RUBRIC
