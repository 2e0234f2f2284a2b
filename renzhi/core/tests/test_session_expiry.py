"""Staff sessions expire after idle time and an absolute maximum; residents' last longer.

Time travel: the middleware's clock (`session_expiry._now`) is moved forward.
"""

from __future__ import annotations

import pytest
from django.test import Client

from renzhi.core import session_expiry

MINUTE = 60.0
HOUR = 3600.0


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock(monkeypatch):
    c = Clock()
    monkeypatch.setattr(session_expiry, "_now", c)
    return c


def signed_in_as(user) -> Client:
    client = Client()
    client.force_login(user)
    assert client.get("/").status_code == 200  # the first request starts the clock
    return client


def test_a_staff_session_ends_after_thirty_idle_minutes(world, clock):
    client = signed_in_as(world.alice)

    clock.advance(31 * MINUTE)
    response = client.get("/")

    assert response.status_code == 302 and response["Location"].startswith("/login/")
    assert "_auth_user_id" not in client.session


def test_a_busy_staff_session_survives_the_idle_limit(world, clock):
    client = signed_in_as(world.alice)

    for _ in range(6):
        clock.advance(20 * MINUTE)
        assert client.get("/").status_code == 200


def test_a_staff_session_ends_after_the_absolute_maximum_however_busy(world, clock):
    client = signed_in_as(world.dora)
    for _ in range(36):  # 12 hours in steps of 20 minutes
        clock.advance(20 * MINUTE)
        assert client.get("/").status_code == 200

    clock.advance(20 * MINUTE)

    assert client.get("/").status_code == 302


def test_a_resident_session_survives_a_long_idle_time(world, clock):
    client = signed_in_as(world.charlie)

    clock.advance(13 * HOUR)

    assert client.get("/").status_code == 200


def test_an_expired_staff_session_gets_401_from_the_api(world, clock):
    client = signed_in_as(world.alice)

    clock.advance(31 * MINUTE)

    assert client.get("/api/me").status_code == 401


def test_the_idle_limit_is_a_setting(world, clock, settings):
    settings.RENZHI_STAFF_IDLE_MINUTES = 5
    client = signed_in_as(world.alice)

    clock.advance(6 * MINUTE)

    assert client.get("/").status_code == 302
