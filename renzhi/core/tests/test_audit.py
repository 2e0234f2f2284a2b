"""The audit chain: every change and login appends a linked event; verify_audit finds tampering.

Tampering is simulated the way an intruder with database access would do it: an UPDATE or DELETE
straight on the table, bypassing `renzhi.core.audit`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import itertools
import json
import random
import sqlite3
import threading
import time
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command, execute_from_command_line
from django.core.management.base import CommandError
from django.db import connection, connections, transaction
from django.http import HttpRequest
from django.test import Client
from django.utils import timezone

from renzhi.core import audit
from renzhi.core.models import AuditEvent, AuditHead, User
from renzhi.core.tests.codes import live_code

# Extra WSGI environ for the test client (typed like its `**extra: Any`).
REMOTE: dict[str, Any] = {"REMOTE_ADDR": "203.0.113.7", "HTTP_USER_AGENT": "RenzhiTest/1.0 (审计)"}

# Every column the hash covers that can hold a one-character change.
FLIPPABLE_FIELDS = [
    "verb",
    "actor_label",
    "object_type",
    "object_id",
    "object_label",
    "before",
    "after",
    "ip",
    "user_agent",
    "at",
    "prev_hash",
    "hash",
]


# --- a chain built by real actions ----------------------------------------------------------


def build_chain_through_the_api(world, api_client) -> list[AuditEvent]:
    """Real requests through the middleware, so events carry an IP and a user agent."""
    client = api_client.as_user(world.root)

    def ok(response, status=201):
        assert response.status_code == status, response.content
        return response.json()

    ok(
        client.post_json(
            "/api/places",
            {
                "level": "grid",
                "code": "110105001001003",
                "name": "甲一社区第3网格",
                "parent_code": "110105001001",
                "boundary": square(116.41, 39.91, 116.42, 39.92),
            },
            **REMOTE,
        )
    )
    ok(
        client.patch_json(
            "/api/places/110105001001003", {"name": "甲一社区第三网格", "population": 800}, **REMOTE
        ),
        200,
    )
    user = ok(
        client.post_json(
            "/api/users",
            {"username": "zhangwei", "password": "Grid2026work", "phone": "13900000011"},
            **REMOTE,
        )
    )
    ok(
        client.post_json(
            f"/api/users/{user['id']}/roles",
            {"role": "grid_worker", "place_code": "110105001001003"},
            **REMOTE,
        )
    )
    ok(client.post_json("/api/tokens", {"name": "12345 热线对接"}, **REMOTE))
    ok(
        client.post_json(
            "/api/calendar/overrides",
            {"date": "2027-02-06", "is_working_day": True, "note": "2027 春节调休（预设）"},
            **REMOTE,
        )
    )
    ok(
        Client().post(
            "/api/auth/register",
            {
                "phone": "13900000012",
                "code": live_code("13900000012"),
                "password": "Home2026safe",
                "community_code": "110105001001",
            },
            content_type="application/json",
            **REMOTE,
        )
    )
    audit.sync_head()  # what the commit of each request would have done
    events = list(AuditEvent.objects.order_by("seq"))
    assert len(events) >= 8
    return events


def square(x0: float, y0: float, x1: float, y1: float) -> dict:
    return {
        "type": "Polygon",
        "coordinates": [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]],
    }


def test_a_chain_built_by_real_actions_verifies(world, api_client):
    events = build_chain_through_the_api(world, api_client)

    checked, broken = audit.verify_chain()

    assert broken is None
    assert checked == len(events)
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert events[0].prev_hash == audit.GENESIS_HASH
    assert all(e.prev_hash == p.hash for p, e in itertools.pairwise(events))
    out = StringIO()
    call_command("verify_audit", stdout=out)
    assert f"{len(events)} events checked" in out.getvalue()


def test_actions_through_the_api_record_ip_and_user_agent(world, api_client):
    build_chain_through_the_api(world, api_client)

    created = AuditEvent.objects.get(verb="place.create")
    assert created.ip == "203.0.113.7"
    assert created.user_agent == "RenzhiTest/1.0 (审计)"
    assert created.actor == world.root
    assert created.after["code"] == "110105001001003"
    updated = AuditEvent.objects.get(verb="place.update")
    assert updated.before["name"] == "甲一社区第3网格"
    assert updated.after["name"] == "甲一社区第三网格"


# --- tampering: one changed character anywhere is found, and the row is named ---------------


@pytest.mark.parametrize("field", FLIPPABLE_FIELDS)
def test_it_names_the_row_whose_field_lost_one_character(world, api_client, field):
    events = build_chain_through_the_api(world, api_client)
    rng = random.Random(f"audit-{field}")
    row = rng.choice([e for e in events if _has_content(getattr(e, field))])

    _tamper(row, field, rng)

    checked, broken = audit.verify_chain()
    assert broken is not None
    assert broken.event_id == row.id
    assert broken.seq == row.seq
    assert checked == row.seq - 1
    with pytest.raises(CommandError, match=rf"event id {row.id}, seq {row.seq}:"):
        call_command("verify_audit")


def test_it_detects_one_flipped_character_in_random_rows_and_fields(world, api_client):
    """Fifty seeded trials: flip, detect and name the row, put the value back, verify again."""
    events = build_chain_through_the_api(world, api_client)
    rng = random.Random(20260214)
    for _trial in range(50):
        field = rng.choice(FLIPPABLE_FIELDS)
        row = rng.choice([e for e in events if _has_content(getattr(e, field))])
        original = getattr(AuditEvent.objects.get(pk=row.pk), field)

        _tamper(row, field, rng)
        _, broken = audit.verify_chain()
        assert broken is not None, (field, row.seq)
        assert broken.event_id == row.id, (field, row.seq, broken)

        AuditEvent.objects.filter(pk=row.pk).update(**{field: original})
        assert audit.verify_chain()[1] is None


def test_it_detects_a_changed_sequence_number(world, api_client):
    events = build_chain_through_the_api(world, api_client)
    row = events[len(events) // 2]
    AuditEvent.objects.filter(pk=row.pk).update(seq=row.seq + 1000)

    _, broken = audit.verify_chain()

    assert broken is not None
    assert broken.event_id == row.id
    assert "sequence" in broken.reason


def test_it_detects_a_changed_actor(world, api_client):
    events = build_chain_through_the_api(world, api_client)
    row = next(e for e in events if e.actor_id == world.root.id)
    AuditEvent.objects.filter(pk=row.pk).update(actor=world.alice)

    _, broken = audit.verify_chain()

    assert broken is not None
    assert broken.event_id == row.id


def test_it_detects_a_deleted_row_at_the_next_row(world, api_client):
    events = build_chain_through_the_api(world, api_client)
    middle = len(events) // 2
    AuditEvent.objects.filter(pk=events[middle].pk).delete()

    _, broken = audit.verify_chain()

    assert broken is not None
    assert broken.event_id == events[middle + 1].id
    assert broken.reason == f"sequence gap: expected seq {events[middle].seq}"


def test_it_detects_a_deleted_first_row(world, api_client):
    events = build_chain_through_the_api(world, api_client)
    AuditEvent.objects.filter(pk=events[0].pk).delete()

    _, broken = audit.verify_chain()

    assert broken is not None
    assert broken.event_id == events[1].id


def test_it_detects_a_deleted_last_row(world, api_client):
    events = build_chain_through_the_api(world, api_client)
    AuditEvent.objects.filter(pk=events[-1].pk).delete()

    checked, broken = audit.verify_chain()

    assert broken is not None
    assert broken.event_id is None
    assert broken.seq == events[-1].seq
    assert checked == len(events) - 1
    with pytest.raises(CommandError, match=rf"missing event, seq {events[-1].seq}: events missing"):
        call_command("verify_audit")


def test_it_detects_a_head_whose_hash_is_not_its_events(world, api_client):
    events = build_chain_through_the_api(world, api_client)
    AuditHead.objects.filter(pk=1).update(seq=events[-2].seq, hash=events[-1].hash)

    _, broken = audit.verify_chain()

    assert broken is not None
    assert broken.event_id == events[-2].id


def test_a_head_lagging_behind_the_last_commit_is_not_a_break(world, api_client):
    # The head moves forward after commit; between the commit and that update it lags.
    events = build_chain_through_the_api(world, api_client)
    AuditHead.objects.filter(pk=1).update(seq=events[-2].seq, hash=events[-2].hash)

    assert audit.verify_chain() == (len(events), None)


def test_the_head_follows_the_last_event_after_commit(world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        audit.record(None, "test.first", object_type="test", object_id="1")
        last = audit.record(None, "test.second", object_type="test", object_id="2")

    head = AuditHead.objects.get(pk=1)
    assert (head.seq, head.hash) == (last.seq, last.hash)


def test_it_detects_a_missing_chain_head(world, api_client):
    events = build_chain_through_the_api(world, api_client)
    AuditHead.objects.all().delete()

    _, broken = audit.verify_chain()

    assert broken is not None
    assert broken.event_id == events[0].id
    assert "head" in broken.reason


def test_events_appended_after_the_head_was_read_are_verified_too(world, api_client, monkeypatch):
    events = build_chain_through_the_api(world, api_client)
    snapshot = AuditHead.objects.get(pk=1)  # what verify read before the writers went on
    with transaction.atomic():
        for i in range(3):
            audit.record(None, "test.later", object_type="test", object_id=str(i))
    monkeypatch.setattr(audit, "_read_head", lambda: snapshot)

    assert audit.verify_chain() == (len(events) + 3, None)


def test_an_empty_chain_verifies(db):
    assert audit.verify_chain() == (0, None)


def test_verify_audit_exits_with_status_one_on_a_broken_chain(world, api_client, capsys):
    events = build_chain_through_the_api(world, api_client)
    AuditEvent.objects.filter(pk=events[2].pk).update(verb="place.delete")

    with pytest.raises(SystemExit) as exit_info:
        execute_from_command_line(["manage.py", "verify_audit"])

    assert exit_info.value.code == 1
    assert f"event id {events[2].id}" in capsys.readouterr().err


def test_verify_audit_exits_with_status_zero_on_a_sound_chain(world, api_client, capsys):
    events = build_chain_through_the_api(world, api_client)

    execute_from_command_line(["manage.py", "verify_audit", "--batch-size", "3"])

    assert f"Audit chain OK: {len(events)} events checked" in capsys.readouterr().out


def test_verify_reads_in_batches_without_losing_its_place(world, api_client):
    events = build_chain_through_the_api(world, api_client)
    row = events[-2]
    AuditEvent.objects.filter(pk=row.pk).update(ip="203.0.113.8")

    for batch_size in (1, 2, 3, len(events), 5000):
        _, broken = audit.verify_chain(batch_size=batch_size)
        assert broken is not None and broken.event_id == row.id, batch_size


# --- a long chain ---------------------------------------------------------------------------


def test_it_detects_a_flipped_byte_in_the_middle_of_a_long_chain(db):
    started = time.perf_counter()
    append_synthetic_events(10_000)
    built = time.perf_counter()
    assert audit.verify_chain() == (10_000, None)
    middle = AuditEvent.objects.get(seq=5_000)
    after = json.dumps(middle.after, ensure_ascii=False)
    assert '"合成"' in after
    AuditEvent.objects.filter(pk=middle.pk).update(after=json.loads(after.replace("合成", "合戍")))

    checked, broken = audit.verify_chain()
    verified = time.perf_counter()

    assert broken is not None
    assert broken.event_id == middle.id
    assert broken.seq == 5_000
    assert checked == 4_999
    with pytest.raises(CommandError, match=rf"event id {middle.id}, seq 5000:"):
        call_command("verify_audit")
    # Generous bound; measured ~1-2 s to build and ~0.2 s per walk on SQLite and PostgreSQL.
    assert verified - started < 60, (built - started, verified - built)


def test_a_long_chain_appended_by_audit_record_verifies(db):
    """The bulk helper above is only trusted because it matches what `record` writes."""
    with transaction.atomic():
        for i in range(500):
            audit.record(None, "test.real", object_type="test", object_id=str(i), after={"i": i})
    append_synthetic_events(500)
    with transaction.atomic():
        audit.record(None, "test.real", object_type="test", object_id="last")

    assert audit.verify_chain() == (1_001, None)


def append_synthetic_events(count: int) -> None:
    """Append `count` events hashed exactly as `audit.record` hashes them, in bulk."""
    seq, prev = audit._tail()
    start = timezone.now()
    events = []
    for i in range(count):
        seq += 1
        event = AuditEvent(
            seq=seq,
            at=start + dt.timedelta(microseconds=i),
            actor=None,
            actor_label="",
            verb="test.synthetic",
            object_type="test",
            object_id=str(i),
            object_label=f"第{i}条",
            before=None,
            after={"i": i, "note": "合成"},
            ip="198.51.100.1",
            user_agent="bulk",
            prev_hash=prev,
        )
        event.hash = prev = audit.event_hash(event)
        event.hmac = audit.event_hmac(event.hash)
        events.append(event)
    AuditEvent.objects.bulk_create(events, batch_size=2_000)
    audit.sync_head()


# --- logins ---------------------------------------------------------------------------------


def test_a_successful_web_login_is_audited_with_ip_and_user_agent(world):
    client = Client()
    response = client.post("/login/", {"username": "alice", "password": world.password}, **REMOTE)

    assert response.status_code == 302
    event = AuditEvent.objects.get(verb="auth.login")
    assert event.actor == world.alice
    assert event.ip == "203.0.113.7"
    assert event.user_agent == "RenzhiTest/1.0 (审计)"
    assert event.after == {"result": "success"}
    assert audit.verify_chain()[1] is None


def test_a_failed_web_login_is_audited_with_ip_user_agent_and_the_name_tried(world):
    client = Client()
    response = client.post("/login/", {"username": "alice", "password": "wrong-Passw0rd"}, **REMOTE)

    assert response.status_code == 200
    event = AuditEvent.objects.get(verb="auth.login_failed")
    assert event.actor is None
    assert event.object_label == "alice"
    assert event.after == {"result": "failure", "username": "alice"}
    assert event.ip == "203.0.113.7"
    assert event.user_agent == "RenzhiTest/1.0 (审计)"
    assert "wrong-Passw0rd" not in json.dumps(event.after)
    assert not AuditEvent.objects.filter(verb="auth.login").exists()


def test_a_failed_login_for_an_unknown_name_is_audited(db):
    Client().post("/login/", {"username": "nobody", "password": "Whatever123"}, **REMOTE)

    event = AuditEvent.objects.get(verb="auth.login_failed")
    assert event.object_label == "nobody"
    assert event.ip == "203.0.113.7"


def test_test_client_logins_are_audited_too(world):
    client = Client()

    assert client.login(request=HttpRequest(), username="bob", password=world.password)
    assert not client.login(request=HttpRequest(), username="bob", password="not-his-Passw0rd")

    verbs = list(AuditEvent.objects.order_by("seq").values_list("verb", "actor_id"))
    assert verbs == [("auth.login", world.bob.id), ("auth.login_failed", None)]
    assert audit.verify_chain()[1] is None


def test_a_login_to_a_deactivated_account_is_audited_as_a_failure(world):
    User.objects.filter(pk=world.bob.pk).update(is_active=False)

    Client().post("/login/", {"username": "bob", "password": world.password}, **REMOTE)

    assert list(AuditEvent.objects.values_list("verb", flat=True)) == ["auth.login_failed"]


def test_a_logout_is_audited(world):
    client = Client()
    client.post("/login/", {"username": "alice", "password": world.password}, **REMOTE)

    client.post("/logout/", **REMOTE)

    event = AuditEvent.objects.order_by("-seq").first()
    assert event.verb == "auth.logout"
    assert event.actor == world.alice


# --- concurrency ----------------------------------------------------------------------------

THREADS = 12
EVENTS_PER_THREAD = 50


def _append_concurrently() -> list[BaseException]:
    barrier = threading.Barrier(THREADS)
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            barrier.wait()
            for i in range(EVENTS_PER_THREAD):
                with transaction.atomic():
                    audit.record(
                        None,
                        "test.concurrent",
                        object_type="writer",
                        object_id=f"{n}-{i}",
                        after={"writer": n, "i": i},
                    )
        except BaseException as exc:  # reported by the test thread
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not any(t.is_alive() for t in threads), "a writer hung"
    return errors


def _assert_one_unforked_chain(before: int) -> None:
    total = before + THREADS * EVENTS_PER_THREAD
    seqs = list(AuditEvent.objects.order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(1, total + 1))
    prev_hashes = list(AuditEvent.objects.values_list("prev_hash", flat=True))
    assert len(set(prev_hashes)) == len(prev_hashes), "two events claim the same predecessor"
    assert AuditEvent.objects.filter(verb="test.concurrent").count() == THREADS * EVENTS_PER_THREAD
    assert audit.verify_chain() == (total, None)
    head = AuditHead.objects.get(pk=1)
    assert head.seq == total


@pytest.mark.postgres_only
@pytest.mark.xdist_group("db_threads")
@pytest.mark.django_db(transaction=True)
def test_parallel_writers_on_postgresql_never_fork_the_chain():
    if connection.vendor != "postgresql":
        pytest.skip("row locks (SELECT … FOR UPDATE) are what is under test; run with DATABASE_URL")
    before = AuditEvent.objects.count()

    errors = _append_concurrently()

    assert errors == []
    _assert_one_unforked_chain(before)


@pytest.mark.django_db(transaction=True)
def test_parallel_writers_on_sqlite_never_fork_the_chain(tmp_path):
    if connection.vendor != "sqlite":
        pytest.skip("the SQLite variant; PostgreSQL has its own test")
    before = AuditEvent.objects.count()

    with _on_a_sqlite_file(tmp_path / "chain.sqlite3"):
        errors = _append_concurrently()

    assert errors == []
    _assert_one_unforked_chain(before)


@contextlib.contextmanager
def _on_a_sqlite_file(path):
    """Let writer threads share one SQLite database the way production does: a WAL file.

    The test database is in-memory with a shared cache, where a second writer fails at once
    with "table is locked" instead of waiting, so it cannot show how writers queue. The
    in-memory database is copied to a file, the threads' new connections open the file
    (IMMEDIATE transactions, WAL, busy timeout — the settings of production), and the result
    is copied back for the assertions.
    """
    if not connection.is_in_memory_db():
        yield  # SQLITE_TEST_PATH points at a file already
        return
    connection.ensure_connection()
    memory = connection.connection
    with sqlite3.connect(path) as disk:
        memory.backup(disk)
    disk.close()
    settings_dict = connections.settings[connection.alias]
    memory_name = settings_dict["NAME"]
    settings_dict["NAME"] = str(path)
    try:
        yield
    finally:
        settings_dict["NAME"] = memory_name
    disk = sqlite3.connect(path)
    try:
        disk.backup(memory)
    finally:
        disk.close()


# --- helpers --------------------------------------------------------------------------------


def _has_content(value) -> bool:
    return value not in (None, "", {}, [])


def _tamper(row: AuditEvent, field: str, rng: random.Random) -> None:
    value = getattr(AuditEvent.objects.get(pk=row.pk), field)
    new: object
    if field == "at":
        new = _flip_datetime(value, rng)
    elif field in ("before", "after"):
        new = _flip_json(value, rng)
    else:
        new = _flip_char(value, rng.randrange(len(value)))
    assert new != value
    assert AuditEvent.objects.filter(pk=row.pk).update(**{field: new}) == 1


def _flip_char(text: str, position: int) -> str:
    """Change exactly one character, keeping its kind (digit, letter, other)."""
    c = text[position]
    if c.isdigit() and c.isascii():
        new = str((int(c) + 1) % 10)
    elif c.isascii() and c.isalpha():
        base = ord("a") if c.islower() else ord("A")
        new = chr(base + (ord(c) - base + 1) % 26)
    else:
        new = chr(ord(c) + 1)
    return text[:position] + new + text[position + 1 :]


def _flip_datetime(value: dt.datetime, rng: random.Random) -> dt.datetime:
    """One digit of the seconds or microseconds, so the result is still a valid time."""
    text = value.astimezone(dt.UTC).isoformat(timespec="microseconds")  # …T08:15:42.123456+00:00
    seconds_units = text.index(".") - 1
    position = rng.choice([seconds_units, *range(text.index(".") + 1, text.index(".") + 7)])
    return dt.datetime.fromisoformat(_flip_char(text, position))


def _flip_json(value, rng: random.Random):
    """One letter, digit or Chinese character inside a JSON string (a key or a value)."""
    text = json.dumps(value, ensure_ascii=False)
    positions, inside, escaped = [], False, False
    for i, c in enumerate(text):
        if escaped:
            escaped = False
        elif c == "\\":
            escaped = True
        elif c == '"':
            inside = not inside
        elif inside and c.isalnum():
            positions.append(i)
    return json.loads(_flip_char(text, rng.choice(positions)))
