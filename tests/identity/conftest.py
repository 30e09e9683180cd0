import pytest

from tests.security.security_world import FAST_HASHERS


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    settings.PASSWORD_HASHERS = FAST_HASHERS
