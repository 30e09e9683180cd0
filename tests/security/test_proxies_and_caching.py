"""Behind a reverse proxy each client keeps its own address (sign-in throttling locks the
client, not everyone), and no response holding fund data may be kept by a browser or cache."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from tests.factories import UserFactory
from tests.security.security_world import ASSOCIATE, FAST_HASHERS, PARTNER, build_world
from tests.security.test_access_matrix import MATRIX, reverse_row

PROXY = "10.0.0.2"  # the reverse proxy: the only peer the app ever sees


def sign_in(client: Client, password: str, client_address: str):
    return client.post(
        reverse("login"),
        {"username": "alice", "password": password},
        REMOTE_ADDR=PROXY,
        HTTP_X_FORWARDED_FOR=client_address,
    )


@pytest.mark.django_db
@pytest.mark.parametrize("proxies", [1, 2])
def test_a_burst_from_one_client_does_not_lock_the_user_out_elsewhere(settings, proxies):
    settings.PASSWORD_HASHERS = FAST_HASHERS
    settings.TRUSTED_PROXY_COUNT = proxies
    UserFactory(username="alice", password="correct-horse-battery")
    # Behind two proxies the outer one appends its own peer: the client's address comes
    # second from the right; anything the client put in the header itself comes before.
    attacker = "6.6.6.6, 203.0.113.9" + (", 10.0.0.1" if proxies == 2 else "")
    colleague = "198.51.100.7" + (", 10.0.0.1" if proxies == 2 else "")
    burst = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in(burst, "wrong-password", attacker)
    assert sign_in(burst, "correct-horse-battery", attacker).status_code in (403, 429)
    office = Client()
    assert sign_in(office, "correct-horse-battery", colleague).status_code == 302
    assert "_auth_user_id" in office.session


@pytest.mark.django_db
def test_without_the_setting_the_header_is_not_trusted(settings):
    """No proxy declared: a client cannot pick its address by sending X-Forwarded-For."""
    settings.PASSWORD_HASHERS = FAST_HASHERS
    settings.TRUSTED_PROXY_COUNT = 0
    UserFactory(username="alice", password="correct-horse-battery")
    client = Client()
    for n in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, "wrong-password", f"203.0.113.{n}")
    assert sign_in(client, "correct-horse-battery", "198.51.100.7").status_code in (403, 429)


# Every GET the matrix lets a member read: pages, fragments and exports.
READABLE = sorted(
    name
    for name, row in MATRIX.items()
    if row.expect[PARTNER][0] == 200 and name not in ("healthz", "admin")
)


@pytest.mark.django_db
@pytest.mark.parametrize("name", READABLE)
def test_every_response_with_fund_data_is_private_and_not_stored(settings, name):
    settings.PASSWORD_HASHERS = FAST_HASHERS
    world = build_world()
    response = world.client(PARTNER).get(reverse_row(name, world))
    assert response.status_code == 200
    cache = response.headers.get("Cache-Control", "")
    assert "private" in cache and "no-store" in cache, f"{name}: {cache!r}"
    refused = world.client(ASSOCIATE).get(reverse("review_queue"))
    assert "no-store" in refused.headers.get("Cache-Control", "")


@pytest.mark.django_db
def test_static_files_keep_their_cache(client):
    response = client.get("/static/css/app.css")
    assert response.status_code == 200
    assert "no-store" not in response.headers.get("Cache-Control", "")
