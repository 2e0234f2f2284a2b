"""kill -9 in the middle of intake loses nothing and doubles nothing.

A real gunicorn serves a freshly migrated database (a temporary SQLite file; and PostgreSQL when
DATABASE_URL is set). Client threads POST appeals through the token API, each with its own
Idempotency-Key, retrying the same key until they get an answer. The server is killed with
SIGKILL mid-stream and restarted. Then: every appeal that was answered 201 is there, no key made
two appeals, `verify_audit` passes, and a webhook delivery left pending when the server died
(its sending task lost) is sent after the restart by the sweeper and a worker.

Bounded: a few seconds of traffic; the slow part is migrating the empty database.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from renzhi.core.tests.listeners import Listener

ROOT = Path(__file__).resolve().parents[3]
PYTHON = sys.executable
GUNICORN = str(Path(sys.executable).with_name("gunicorn"))
CLIENTS = 4
TRAFFIC_SECONDS = 3.0

pytestmark = pytest.mark.durability

SETUP = r"""
import datetime as dt
import json
from django.utils import timezone
from django.db import transaction
from django_tasks_db.models import DBTaskResult
from renzhi.core import geo
from renzhi.core.actions import issue_api_token
from renzhi.core.models import Membership, Place, Role, Unit, User
from renzhi.appeals.models import Category, RoutingRule, SlaRule
from renzhi.warning import actions as warning
from renzhi.warning.models import Delivery

def square(x0, y0, x1, y1):
    return {"type": "Polygon", "coordinates": [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]]}

def place(code, name, level, parent, box):
    fields = geo.boundary_fields(geo.parse_boundary(square(*box)))
    return Place.objects.create(code=code, name=name, level=level, parent=parent, **fields)

def user(name, role, where):
    u = User.objects.create_user(username=name, password="Kill9-pass!x", display_name=name)
    Membership.objects.create(user=u, role=role, place=where)
    return u

district = place("110105", "朝阳演示区", "district", None, (116.40, 39.90, 116.60, 40.00))
street = place("110105001", "甲街道", "street", district, (116.40, 39.90, 116.50, 40.00))
community = place("110105001001", "甲一社区", "community", street, (116.40, 39.90, 116.50, 39.95))
place("110105001001001", "甲一社区第1网格", "grid", community, (116.40, 39.90, 116.45, 39.95))
unit = Unit.objects.create(code="U-WY-A", name="甲一物业", kind="property")
unit.places.set([community])
prop = Category.objects.create(code="08", name="物业管理", default_unit_kind="property")
Category.objects.create(code="0801", name="电梯故障", parent=prop)
RoutingRule.objects.create(category=prop, place=community, unit=unit)
SlaRule.objects.create(category=None, priority="normal", sign_hours=2, resolve_days=3)
dora = user("dora", Role.DISPATCHER, street)
alice = user("alice", Role.COMMUNITY_STAFF, community)
leo = user("leo", Role.LEADER, street)
_token, raw = issue_api_token(dora, "kill9")

warning.create_webhook(leo, name="外部", url=HOOK_URL, place_code=street.code)
w = warning.create_warning(alice, warning.WarningInput(
    level=4, headline="甲一社区供水异常", event="供水问题", description="停水",
    instructions="储水", cap_category="Infra", area_codes=[community.code],
    expires_at=timezone.now() + dt.timedelta(days=2)))
warning.submit(alice, w.pk)
warning.approve(leo, w.pk)
warning.publish(alice, w.pk)
# The server "dies" between the commit and the enqueue: the sending jobs are lost.
DBTaskResult.objects.all().delete()
print(json.dumps({"token": raw, "pending": Delivery.objects.filter(
    channel="webhook", outcome="pending").count()}))
"""

CHECK = r"""
import json
from django.db.models import Count
from renzhi.appeals.models import Appeal
from renzhi.warning.models import Delivery
rows = list(Appeal.objects.values_list("tracking_no", "idempotency_key"))
doubled = list(Appeal.objects.values("idempotency_key").annotate(n=Count("id")).filter(n__gt=1)
               .values_list("idempotency_key", flat=True))
hook = Delivery.objects.get(channel="webhook")
print(json.dumps({"appeals": rows, "doubled": doubled, "hook": [hook.outcome, hook.attempts]}))
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env(database: dict[str, str], tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("RENZHI_TESTING", "DATABASE_URL")}
    env.update(
        DEBUG="1",
        SECRET_KEY="kill9-test-key-" + "x" * 40,
        ALLOWED_HOSTS="127.0.0.1",
        RENZHI_VAR_DIR=str(tmp / "var"),
        MEDIA_ROOT=str(tmp / "media"),
        RENZHI_OUTBOUND_ALLOW="127.0.0.2/32",
        RENZHI_OUTBOX_GRACE="0",
        RENZHI_MQTT_URL="mqtt://127.0.0.1:1",
        LOG_LEVEL="WARNING",
        PYTHONPATH=str(ROOT),
    )
    env.update(database)
    return env


def _manage(env, *args, code: str | None = None, timeout: float = 180) -> str:
    cmd = [PYTHON, str(ROOT / "manage.py"), *args]
    if code is not None:
        cmd += ["-c", code]
    done = subprocess.run(
        cmd, env=env, cwd=ROOT, capture_output=True, text=True, timeout=timeout, check=False
    )
    assert done.returncode == 0, f"{args}: {done.stdout}\n{done.stderr}"
    return done.stdout


class Server:
    def __init__(self, env: dict[str, str], port: int, log) -> None:
        self.env, self.port, self.log = env, port, log
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [GUNICORN, "renzhi.wsgi:application", "-b", f"127.0.0.1:{self.port}", "-w", "1",
             "--threads", "4", "--log-level", "warning"],
            env=self.env, cwd=ROOT, start_new_session=True,
            stdout=subprocess.DEVNULL, stderr=self.log,
        )  # fmt: skip
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{self.port}/api/appeals/", timeout=30)
                return
            except urllib.error.HTTPError:
                return  # it answers
            except OSError:
                time.sleep(0.2)
        self.kill()
        raise AssertionError("gunicorn did not start")

    def kill(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        os.killpg(self.proc.pid, signal.SIGKILL)  # master and workers, no cleanup at all
        self.proc.wait(timeout=10)


class Client(threading.Thread):
    """Files appeals one after another; retries each key until it gets an answer."""

    def __init__(self, n: int, port: int, token: str, stop: threading.Event) -> None:
        super().__init__(daemon=True)
        self.n, self.port, self.token, self.stop = n, port, token, stop
        self.answers: dict[str, tuple[int, str]] = {}
        self.retries = 0

    def run(self) -> None:
        sent = 0
        while not self.stop.is_set():
            key = f"c{self.n}-{sent}"
            while True:
                answer = self._post(key)
                if answer is not None:
                    self.answers[key] = answer
                    break
                self.retries += 1
                time.sleep(0.1)
            sent += 1

    def _post(self, key: str) -> tuple[int, str] | None:
        body = json.dumps(
            {"description": f"电梯停了 {key}", "category_code": "0801", "lat": 39.92, "lng": 116.42}
        ).encode()
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}/api/appeals/",
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json",
                "Authorization": f"Bearer {self.token}",
                "Idempotency-Key": key,
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, json.loads(response.read())["tracking_no"]
        except urllib.error.HTTPError as exc:
            if exc.code in (502, 503, 504):
                return None
            raise AssertionError(f"{key}: HTTP {exc.code} {exc.read()[:300]!r}") from exc
        except OSError:  # refused, reset, timed out: the server is down; try again
            return None


def _databases():
    yield pytest.param("sqlite", id="sqlite")
    yield pytest.param(
        "postgresql",
        id="postgresql",
        marks=pytest.mark.skipif(
            not os.environ.get("DATABASE_URL", "").startswith("postgres"),
            reason="PostgreSQL only when DATABASE_URL is set",
        ),
    )


@pytest.fixture
def database(request, tmp_path):
    if request.param == "sqlite":
        yield {"SQLITE_PATH": str(tmp_path / "kill9.sqlite3")}
        return
    import psycopg

    url = os.environ["DATABASE_URL"]
    base, _, _name = url.rpartition("/")
    name = "renzhi_kill9_" + str(os.getpid())
    with psycopg.connect(f"{base}/postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.execute(f'CREATE DATABASE "{name}"')
    yield {"DATABASE_URL": f"{base}/{name}"}
    with psycopg.connect(f"{base}/postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.mark.parametrize("database", list(_databases()), indirect=True)
def test_kill_9_mid_intake_loses_and_doubles_nothing(database):
    tmp = Path(tempfile.mkdtemp(prefix="renzhi-kill9-"))
    env = _env(database, tmp)
    _manage(env, "migrate", "--noinput", timeout=600)
    with Listener("127.0.0.2", status=204, body=b"") as hook:
        setup = SETUP.replace("HOOK_URL", repr(hook.url("/hook")))
        made = json.loads(_manage(env, "shell", code=setup).strip().splitlines()[-1])
        assert made["pending"] == 1 and hook.hits == []

        server = Server(env, _free_port(), (tmp / "gunicorn.log").open("w"))
        stop = threading.Event()
        clients = [Client(n, server.port, made["token"], stop) for n in range(CLIENTS)]
        try:
            server.start()
            for c in clients:
                c.start()
            time.sleep(TRAFFIC_SECONDS)
            server.kill()
            answered_before = sum(len(c.answers) for c in clients)
            time.sleep(0.5)
            server.start()
            time.sleep(TRAFFIC_SECONDS / 2)
            stop.set()
            for c in clients:
                c.join(timeout=30)
        finally:
            stop.set()
            server.kill()

        _manage(env, "sweep")
        _manage(env, "db_worker", "--batch", "--no-startup-delay", timeout=120)
        assert len(hook.hits) == 1 and hook.hits[0]["method"] == "POST"

    state = json.loads(_manage(env, "shell", code=CHECK).strip().splitlines()[-1])
    stored = {key: number for number, key in state["appeals"]}
    answers = {k: v for c in clients for k, v in c.answers.items()}
    assert answered_before > 0 and sum(c.retries for c in clients) > 0
    for key, (status, number) in answers.items():
        assert status in (200, 201)
        assert stored.get(key) == number, f"{key} was answered {status} {number}, not stored"
    assert state["doubled"] == []
    assert set(stored) == set(answers)  # nothing stored that no client asked for
    assert state["hook"] == ["ok", 1]
    _manage(env, "verify_audit")  # exits non-zero on a broken chain
