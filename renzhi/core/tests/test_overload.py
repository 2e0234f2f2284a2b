"""A busy database gives a fast, clear 503 with Retry-After (JSON under /api/, a page
elsewhere), never a 500 after a long wait; nothing is saved."""

from __future__ import annotations

import sqlite3
from contextlib import contextmanager
from typing import Any

import pytest
from django.db import OperationalError, connection

from renzhi.appeals.tests.conftest import cases  # noqa: F401  (fixture)
from renzhi.core import overload

LIFT = {"description": "3号楼电梯停了两天", "category_code": "0801", "lat": 39.92, "lng": 116.42}


@contextmanager
def write_lock_held_elsewhere(table: str):
    """Another connection holds the write lock (SQLite) or an exclusive table lock (PostgreSQL)."""
    if connection.vendor == "sqlite":
        name = connection.settings_dict["NAME"]
        if str(name).startswith("file:"):  # the shared in-memory test database
            other = sqlite3.connect(name, uri=True, isolation_level=None, check_same_thread=False)
        else:
            other = sqlite3.connect(name, isolation_level=None, check_same_thread=False)
        other.execute("BEGIN IMMEDIATE")
        other.execute(f"DELETE FROM {table} WHERE 1 = 0")
        try:
            yield
        finally:
            other.execute("ROLLBACK")
            other.close()
    else:
        import psycopg

        params = connection.get_connection_params()
        pg: Any = psycopg.connect(**params)
        try:
            pg.execute(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")
            yield
        finally:
            pg.rollback()
            pg.close()


@pytest.mark.django_db(transaction=True)
def test_a_locked_database_gives_the_api_a_503_with_retry_after(cases, api_client):  # noqa: F811
    from renzhi.appeals.models import Appeal

    api_client.force_login(cases.charlie)
    with write_lock_held_elsewhere("appeals_appeal"):
        response = api_client.post_json("/api/appeals/", LIFT)
    assert response.status_code == 503, response.content
    assert response["Retry-After"] == str(overload.RETRY_AFTER_SECONDS)
    assert response.json()["detail"][0]["code"] == "busy"
    assert Appeal.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_a_locked_database_gives_a_page_a_503_in_chinese(cases, client):  # noqa: F811
    from renzhi.appeals.models import Appeal

    client.force_login(cases.charlie)
    form = {
        "category": cases.cat_lift.code,
        "description": "3号楼电梯停了，老人下不了楼",
        "lat": "39.92",
        "lng": "116.42",
        "address": "3号楼",
        "place": cases.community_a.code,
        "contact_phone": "13800000003",
        "idempotency_key": "k-1",
    }
    with write_lock_held_elsewhere("appeals_appeal"):
        response = client.post("/appeals/new/", form)
    assert response.status_code == 503
    assert response["Retry-After"]
    assert "服务繁忙" in response.content.decode()
    assert Appeal.objects.count() == 0


@pytest.mark.parametrize(
    ("error", "busy"),
    [
        (OperationalError("database is locked"), True),
        (OperationalError("database table is locked: appeals_appeal"), True),
        (OperationalError("no such table: x"), False),
        (ValueError("database is locked"), False),
    ],
)
def test_only_lock_and_connection_errors_count_as_busy(error, busy):
    assert overload.is_busy(error) is busy


def test_connections_opened_for_a_web_request_wait_less_for_locks(db, settings):
    """SQLite: workers keep the long busy timeout; a connection opened while serving a request
    gets RENZHI_DB_BUSY_TIMEOUT. (PostgreSQL: lock_timeout in the connection options.)"""
    if connection.vendor != "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("SHOW lock_timeout")
            assert cursor.fetchone()[0] == "5s"
        return
    settings.RENZHI_DB_BUSY_TIMEOUT = 2.5

    def read():
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA busy_timeout")
            return cursor.fetchone()[0]

    before = read()
    overload._limit_lock_waits(sender=None, connection=connection)  # outside a request
    assert read() == before == 20000
    token = overload._serving_request.set(True)
    try:
        overload._limit_lock_waits(sender=None, connection=connection)
        assert read() == 2500
    finally:
        overload._serving_request.reset(token)
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA busy_timeout = {before}")
