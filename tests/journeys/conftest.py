"""One demo, one server and one browser for every journey.

The demo is loaded once for the package and served by a live server of its own, so the
journeys do not pay pytest-django's flush and reload per test (its `live_server` makes
each test transactional). Each journey runs in a fresh browser context of the one browser.
The database is flushed before the demo is loaded and after the last journey, so the
tests that follow find it as empty as a transactional test leaves it.
"""

from __future__ import annotations

import pytest
from django.core.management import call_command

from assessments.demo import load_demo
from tests.conftest import need

from . import whole


@pytest.fixture(scope="package")
def demo_site(django_db_setup, django_db_blocker):
    """The base URL of a server on the demo; the database stays open to the tests, which
    read it to know what to expect."""
    from django.db import connection
    from pytest_django.live_server_helper import LiveServer

    # The demo is shared by a server thread and the tests across their transactions, which
    # an in-memory SQLite test database cannot do: like the other real-service tests, the
    # journeys skip on SQLite (and fail under CI=true, which runs them on PostgreSQL).
    need(
        connection.vendor == "postgresql",
        "the journeys need PostgreSQL (DATABASE_URL=postgres://...); CI runs them there",
    )
    with django_db_blocker.unblock():
        call_command("flush", interactive=False, verbosity=0)
        load_demo()
        server = LiveServer("localhost")
        # What pytest-django's live_server does per test: let the server's host in.
        server._live_server_modified_settings.enable()
        try:
            yield server.url
        finally:
            server._live_server_modified_settings.disable()
            server.stop()
            call_command("flush", interactive=False, verbosity=0)


@pytest.fixture
def journey(page, demo_site):
    """(page, watch, base URL): a 1440 × 900 window whose every problem is collected."""
    page.set_viewport_size({"width": 1440, "height": 900})
    page.add_init_script(whole.SETTLE_COUNTER)
    watch = whole.Watch(page)
    yield page, watch, demo_site
    assert not watch.take()
