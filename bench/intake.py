"""Appeals created per second through the JSON API, vs raw INSERT, on SQLite and PostgreSQL.

    .venv/bin/python bench/intake.py                    # both databases
    .venv/bin/python bench/intake.py --backends sqlite --requests 200 --load-seconds 10

For each database (each in its own child process, on a fresh temporary database: a SQLite file
in a temp directory, or `helper_bench` on the local PostgreSQL, created and dropped here):
  action     actions.submit_appeal() called directly (the domain work, no HTTP, no JSON)
  in-process POST /api/appeals/ through Django's test client (whole stack, no sockets)
  gunicorn   POST /api/appeals/ over HTTP to gunicorn on 127.0.0.1 (2 sync workers), closed
             loop with --clients concurrent clients
  raw INSERT executemany of equivalent appeals_appeal rows in one transaction (no events,
             audit, notifications, routing: the floor the API is compared with)
and the latency of an open-loop offered load (--rate req/s for --load-seconds against the same
gunicorn; latency counts from the moment a request was due, so a slow server cannot hide its
backlog), with errors counted. Every POST carries a fresh Idempotency-Key, a location inside
the demo district and a category; routing dispatches each appeal automatically (a default
rule per street), as a partner system's appeals would be.
Prints a table and writes bench/results/intake.json. Only 127.0.0.1 is contacted.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
RESULT = ROOT / "bench" / "results" / "intake.json"
PG_DB = "helper_bench"
PG_ADMIN_URL = "postgres://postgres@127.0.0.1:5432/postgres"
PG_URL = f"postgres://postgres@127.0.0.1:5432/{PG_DB}"
API_PATH = "/api/appeals/"
RAW = "raw INSERT (executemany)"
RAW_EACH = "raw INSERT, 1 transaction each"
TIMEOUT_S = 10.0
GOALS = {"api_vs_raw_insert": 0.30, "p99_ms_at_offered_load": 150.0}
TEXTS = [
    "小区三号楼电梯经常停运，老人上下楼非常不便，希望物业尽快维修。",
    "今天早上起小区停水，没有任何通知，请尽快恢复供水。",
    "楼下餐馆油烟直排，晚上噪音很大，影响居民休息。",
    "路口井盖缺失，夜间没有照明，行人很容易掉进去。",
]


# --- the parent: one child per database, then the table -------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument(
        "--requests", type=int, default=400, help="appeals per throughput measurement (default 400)"
    )
    parser.add_argument("--raw-rows", type=int, default=5000, help="rows for the raw INSERT")
    parser.add_argument("--clients", type=int, default=4, help="concurrent clients (closed loop)")
    parser.add_argument("--rate", type=float, default=200.0, help="offered load, requests/s")
    parser.add_argument("--load-seconds", type=float, default=30.0)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if not (
        1 <= args.requests <= 20000
        and 1 <= args.raw_rows <= 1_000_000
        and 1 <= args.clients <= 64
        and 0 < args.rate <= 2000
        and 0 < args.load_seconds <= 120
    ):
        parser.error("a limit is out of range (requests ≤ 20000, rate ≤ 2000, seconds ≤ 120)")
    if args.child:
        Child(args.child, args).run()
        return

    started = time.perf_counter()
    results = {}
    for backend in [b.strip() for b in args.backends.split(",") if b.strip()]:
        if backend not in ("sqlite", "postgres"):
            parser.error(f"unknown backend {backend}")
        with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as out:
            out_path = out.name
        command = [
            sys.executable,
            __file__,
            "--child",
            backend,
            "--out",
            out_path,
            "--requests",
            str(args.requests),
            "--raw-rows",
            str(args.raw_rows),
            "--clients",
            str(args.clients),
            "--rate",
            str(args.rate),
            "--load-seconds",
            str(args.load_seconds),
        ]
        print(f"\n== {backend} ==", flush=True)
        subprocess.run(command, check=True, timeout=900)
        results[backend] = json.loads(Path(out_path).read_text())
        Path(out_path).unlink()
    print_table(results, args)
    payload = {
        "benchmark": "intake",
        "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "load_average_at_end": [round(v, 2) for v in os.getloadavg()],
        },
        "settings": {
            "requests": args.requests,
            "raw_rows": args.raw_rows,
            "clients": args.clients,
            "rate": args.rate,
            "load_seconds": args.load_seconds,
            "gunicorn_workers": 2,
        },
        "goals": GOALS,
        "results": results,
        "seconds": round(time.perf_counter() - started, 1),
    }
    RESULT.parent.mkdir(parents=True, exist_ok=True)
    RESULT.write_text(json.dumps(payload, ensure_ascii=False, indent=2) + "\n")
    print(f"\nwritten {RESULT.relative_to(ROOT)} ({payload['seconds']} s)")


def print_table(results: dict, args) -> None:
    print("\nAppeal intake (appeals/s; latency in ms)")
    header = (
        f"{'database':<9} {'mode':<32} {'appeals/s':>10} {'vs raw':>7} {'vs raw 1tx':>10}  notes"
    )
    print(header)
    print("-" * 96)
    for backend, r in results.items():
        raw = r["modes"].get(RAW, {}).get("per_second") or 0
        raw_each = r["modes"].get(RAW_EACH, {}).get("per_second") or 0
        for mode, m in r["modes"].items():
            rate = m.get("per_second")
            share = f"{rate / raw:6.1%}" if rate and raw else "     -"
            share_each = f"{rate / raw_each:6.1%}" if rate and raw_each else "     -"
            note = m.get("note", "")
            shown = f"{rate:10.1f}" if rate is not None else f"{'skipped':>10}"
            print(f"{backend:<9} {mode:<32} {shown} {share:>7} {share_each:>10}  {note}")
        for name in ("load_half_capacity", "load"):
            load = r.get(name)
            if not load:
                continue
            print(
                f"{backend:<9} {'offered ' + str(load['offered_per_second']) + ' req/s':<32} "
                f"p50 {load['p50_ms']} p99 {load['p99_ms']} ms; "
                f"achieved {load['achieved_per_second']}/s, errors {load['errors']} "
                f"of {load['sent']}"
            )


# --- the child: one database -----------------------------------------------------------------


class Child:
    def __init__(self, backend: str, args):
        self.backend, self.args = backend, args
        self.tmp = Path(tempfile.mkdtemp(prefix="renzhi-intake-"))
        self.env = {
            "DJANGO_SETTINGS_MODULE": "renzhi.settings",
            "SECRET_KEY": "bench-only-secret-key-not-for-production",
            "DEBUG": "0",
            "ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
            "LOG_LEVEL": "WARNING",
            "RENZHI_FAST_HASHER": "1",
            "RENZHI_BENCHMARK": "1",  # a throwaway database: the fast hasher is allowed
            "RENZHI_VAR_DIR": str(self.tmp),
            "MEDIA_ROOT": str(self.tmp / "media"),
        }
        if backend == "postgres":
            self.env["DATABASE_URL"] = PG_URL
        else:
            self.env["SQLITE_PATH"] = str(self.tmp / "bench.sqlite3")
            os.environ.pop("DATABASE_URL", None)
        os.environ.update(self.env)

    def run(self) -> None:
        if self.backend == "postgres":
            pg_admin(f"DROP DATABASE IF EXISTS {PG_DB} WITH (FORCE)", f"CREATE DATABASE {PG_DB}")
        result: dict = {"modes": {}}
        try:
            import django

            django.setup()
            from django.core.management import call_command
            from django.db import connection

            call_command("migrate", verbosity=0)
            result["database"] = f"{connection.vendor} {connection.Database.__name__}"
            self.world()
            a = self.args
            result["modes"]["action (submit_appeal)"] = self.action_rate(a.requests)
            if api_mounted():
                result["modes"]["in-process POST /api/appeals/"] = self.client_rate(a.requests)
                with Gunicorn(self.env, self.tmp) as server:
                    result["modes"][f"gunicorn POST, {a.clients} clients"] = self.http_rate(
                        server.port, a.requests, a.clients
                    )
                    # First a load this server can carry (half its closed-loop capacity), then
                    # the requested one (which may swamp it; its backlog would spoil the first).
                    capacity = result["modes"][f"gunicorn POST, {a.clients} clients"]["per_second"]
                    gentle = max(1.0, round(capacity * 0.5))
                    if gentle < a.rate:
                        result["load_half_capacity"] = self.offered_load(
                            server.port, gentle, min(a.load_seconds, 15.0)
                        )
                    result["load"] = self.offered_load(server.port, a.rate, a.load_seconds)
            else:
                skipped = {"per_second": None, "note": f"POST {API_PATH} not mounted yet"}
                result["modes"]["in-process POST /api/appeals/"] = skipped
                result["modes"]["gunicorn POST"] = skipped
            result["modes"][RAW] = self.raw_insert(a.raw_rows)
            result["modes"][RAW_EACH] = self.raw_insert(min(a.raw_rows, 2000), each=True)
        finally:
            from django.db import connections

            connections.close_all()
            if self.backend == "postgres":
                pg_admin(f"DROP DATABASE IF EXISTS {PG_DB} WITH (FORCE)")
        shutil.rmtree(self.tmp, ignore_errors=True)  # kept (with gunicorn.log) if it failed
        Path(self.args.out).write_text(json.dumps(result, ensure_ascii=False))

    # world: places, units, categories, routing, a partner account with a token

    def world(self) -> None:
        from renzhi.appeals.actions.config import load_categories
        from renzhi.appeals.models import Category, RoutingRule
        from renzhi.core.actions import issue_api_token
        from renzhi.core.models import Membership, Place, Role, Unit, User
        from renzhi.demo.build import build_city
        from renzhi.demo.categories import CATEGORIES

        build_city(residents=False)
        load_categories(None, CATEGORIES)
        for street in Place.objects.filter(level="street"):
            unit = Unit.objects.filter(code=f"CG-{street.code}").first() or Unit.objects.first()
            RoutingRule.objects.create(category=None, place=street, unit=unit)
        district = Place.objects.get(level="district")
        self.partner = User.objects.create_user("bench_partner", password="Bench-pass-2026!")
        Membership.objects.create(user=self.partner, role=Role.DISPATCHER, place=district)
        _token, self.token = issue_api_token(self.partner, "bench")
        self.points = [
            (g.centre_lat, g.centre_lng)
            for g in Place.objects.filter(level="grid").exclude(centre_lat=None).order_by("code")
        ]
        self.categories = list(Category.objects.exclude(parent=None).order_by("code"))
        self.counter = 0

    def payload(self) -> tuple[dict, str]:
        self.counter += 1
        n = self.counter
        lat, lng = self.points[n % len(self.points)]
        category = self.categories[n % len(self.categories)]
        return (
            {
                "description": TEXTS[n % len(TEXTS)] + f"（{n}）",
                "category_code": category.code,
                "lat": lat,
                "lng": lng,
                "contact_phone": f"139{n:08d}"[:11],
                "external_ref": f"BENCH-{n}",
            },
            f"bench-{self.backend}-{n}",
        )

    # the modes

    def action_rate(self, n: int) -> dict:
        from renzhi.appeals import actions

        def one():
            data, key = self.payload()
            category = next(c for c in self.categories if c.code == data["category_code"])
            actions.submit_appeal(
                self.partner,
                channel="api",
                description=data["description"],
                category=category,
                lat=data["lat"],
                lng=data["lng"],
                contact_phone=data["contact_phone"],
                idempotency_key=key,
            )

        return rate_of(one, n, limit_s=60)

    def client_rate(self, n: int) -> dict:
        from django.test import Client

        client = Client()
        headers = {"HTTP_AUTHORIZATION": f"Bearer {self.token}"}
        statuses: dict[int, int] = {}

        def one():
            data, key = self.payload()
            response = client.post(
                API_PATH,
                data=json.dumps(data),
                content_type="application/json",
                HTTP_IDEMPOTENCY_KEY=key,
                **headers,
            )
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1

        result = rate_of(one, n, limit_s=60)
        result["statuses"] = {str(k): v for k, v in statuses.items()}
        if set(statuses) - {200, 201}:
            result["note"] = f"non-2xx answers: {result['statuses']}"
        return result

    def http_rate(self, port: int, n: int, clients: int) -> dict:
        lock = threading.Lock()
        bodies = [self.payload() for _ in range(n)]
        errors = 0
        latencies: list[float] = []

        def worker(chunk):
            nonlocal errors
            for data, key in chunk:
                started = time.perf_counter()
                ok = post(port, data, key, self.token)
                with lock:
                    latencies.append((time.perf_counter() - started) * 1000)
                    errors += 0 if ok else 1

        chunks = [bodies[i::clients] for i in range(clients)]
        started = time.perf_counter()
        threads = [threading.Thread(target=worker, args=(c,)) for c in chunks]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=300)
        seconds = time.perf_counter() - started
        return {
            "count": n,
            "seconds": round(seconds, 2),
            "per_second": round(n / seconds, 1),
            "errors": errors,
            "p50_ms": round(statistics.median(latencies), 1),
            "note": f"errors {errors}" if errors else "",
        }

    def offered_load(self, port: int, rate: float, seconds: float) -> dict:
        """Open loop: request i is due at t0 + i/rate whatever the server does.

        Latency counts from the due time. A request not answered TIMEOUT_S after it was due is
        an error (and one the client could not even start by then is not sent at all), so an
        overloaded server cannot stretch the run: it ends at most TIMEOUT_S after the last due.
        """
        total = int(rate * seconds)
        bodies = [self.payload() for _ in range(total)]
        results: list[tuple[float, str]] = []
        lock = threading.Lock()
        pool = ThreadPoolExecutor(max_workers=128)
        t0 = time.perf_counter() + 0.5

        def fire(due: float, data: dict, key: str):
            left = TIMEOUT_S - (time.perf_counter() - due)
            if left <= 0.05:
                outcome = "not sent"
            else:
                outcome = "ok" if post(port, data, key, self.token, timeout=left) else "error"
            with lock:
                results.append(((time.perf_counter() - due) * 1000, outcome))

        for i, (data, key) in enumerate(bodies):
            due = t0 + i / rate
            delay = due - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            pool.submit(fire, due, data, key)
        pool.shutdown(wait=True, cancel_futures=False)
        finished = time.perf_counter()
        ok = [ms for ms, outcome in results if outcome == "ok"]
        every = [ms if outcome == "ok" else max(ms, TIMEOUT_S * 1000) for ms, outcome in results]
        return {
            "offered_per_second": rate,
            "seconds": seconds,
            "sent": total,
            "ok": len(ok),
            "errors": total - len(ok),
            "not_sent_client_timeout": sum(1 for _ms, o in results if o == "not sent"),
            "timeout_s": TIMEOUT_S,
            "achieved_per_second": round(len(ok) / (finished - t0), 1),
            # over every request: a failed one counts as at least the timeout
            "p50_ms": round(percentile(every, 0.50), 1),
            "p90_ms": round(percentile(every, 0.90), 1),
            "p99_ms": round(percentile(every, 0.99), 1),
            "max_ms": round(max(every), 1),
            "ok_p50_ms": round(percentile(ok, 0.50), 1) if ok else None,
            "ok_p99_ms": round(percentile(ok, 0.99), 1) if ok else None,
        }

    def raw_insert(self, n: int, *, each: bool = False) -> dict:
        """Equivalent appeals_appeal rows (what submit + auto-dispatch leave in that table):
        all in one transaction with executemany, or (`each`) one INSERT and commit per row,
        as each API request commits its own."""
        import datetime as dt

        from django.db import connection, transaction
        from django.utils import timezone

        from renzhi.core.models import Place, Unit

        grids = list(Place.objects.filter(level="grid").select_related("parent__parent"))
        unit = Unit.objects.first()
        now = timezone.now()
        adapt = connection.ops.adapt_datetimefield_value
        columns = [
            "tracking_no",
            "channel",
            "state",
            "priority",
            "category_id",
            "category_top_id",
            "title",
            "description",
            "lat",
            "lng",
            "address",
            "grid_id",
            "community_id",
            "street_id",
            "place_code",
            "contact_name",
            "contact_phone",
            "anonymous",
            "created_by_id",
            "idempotency_key",
            "external_ref",
            "extra",
            "unit_id",
            "escalation_level",
            "supervised",
            "supervise_count",
            "reopen_count",
            "return_count",
            "transfer_count",
            "state_before_suspend",
            "result",
            "received_at",
            "accepted_at",
            "dispatched_at",
            "first_dispatched_at",
            "sign_deadline",
            "resolve_deadline",
            "overdue",
            "satisfaction",
            "feedback",
            "version",
            "updated_at",
        ]
        rows = []
        for i in range(n):
            g = grids[i % len(grids)]
            c = self.categories[i % len(self.categories)]
            t = adapt(now + dt.timedelta(microseconds=i))
            rows.append(
                (
                    f"RZRAW{'E' if each else 'M'}{i:011d}",
                    "api",
                    "dispatched",
                    "normal",
                    c.pk,
                    c.parent_id,
                    TEXTS[i % 4][:30],
                    TEXTS[i % 4],
                    g.centre_lat,
                    g.centre_lng,
                    "",
                    g.pk,
                    g.parent_id,
                    g.parent.parent_id,
                    g.code,
                    "",
                    f"139{i:08d}"[:11],
                    False,
                    self.partner.pk,
                    f"raw-{each}-{i}",
                    f"RAW-{i}",
                    "{}",
                    unit.pk,
                    "",
                    False,
                    0,
                    0,
                    0,
                    0,
                    "",
                    "",
                    t,
                    t,
                    t,
                    t,
                    t,
                    t,
                    False,
                    "",
                    "",
                    1,
                    t,
                )
            )
        sql = (
            f"INSERT INTO appeals_appeal ({', '.join(columns)}) "
            f"VALUES ({', '.join(['%s'] * len(columns))})"
        )
        started = time.perf_counter()
        if each:
            for row in rows:
                with transaction.atomic(), connection.cursor() as cursor:
                    cursor.execute(sql, row)
        else:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.executemany(sql, rows)
        seconds = time.perf_counter() - started
        return {
            "count": n,
            "seconds": round(seconds, 3),
            "per_second": round(n / seconds, 1),
            "note": "appeal rows only, " + ("a commit per row" if each else "one transaction"),
        }


# --- helpers -----------------------------------------------------------------------------------


def rate_of(fn, n: int, limit_s: float) -> dict:
    """Call fn up to n times (stopping after limit_s seconds); appeals per second."""
    fn()  # warm-up: first-call imports and caches are not what we measure
    done, started = 0, time.perf_counter()
    while done < n and time.perf_counter() - started < limit_s:
        fn()
        done += 1
    seconds = time.perf_counter() - started
    return {"count": done, "seconds": round(seconds, 2), "per_second": round(done / seconds, 1)}


def post(port: int, data: dict, key: str, token: str, timeout: float = 30) -> bool:
    body = json.dumps(data).encode()
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        conn.request(
            "POST",
            API_PATH,
            body=body,
            headers={
                "Content-Type": "application/json",
                "Authorization": f"Bearer {token}",
                "Idempotency-Key": key,
                "Accept": "application/json",
            },
        )
        response = conn.getresponse()
        response.read()
        conn.close()
        return response.status in (200, 201)
    except OSError:
        return False


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, int(q * len(ordered) + 0.999999) - 1))]


def api_mounted() -> bool:
    """True once the API colleague's POST /api/appeals/ is routed."""
    from django.urls import Resolver404, resolve

    try:
        resolve(API_PATH)
    except Resolver404:
        return False
    return True


def pg_admin(*statements: str) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        for statement in statements:
            conn.execute(statement)


class Gunicorn:
    """gunicorn on 127.0.0.1 with 2 sync workers, started and stopped by us."""

    def __init__(self, env: dict, tmp: Path):
        self.env, self.tmp = env, tmp
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]

    def __enter__(self) -> Gunicorn:
        gunicorn = Path(sys.executable).with_name("gunicorn")
        self.log = open(self.tmp / "gunicorn.log", "w")
        self.process = subprocess.Popen(
            [
                str(gunicorn),
                "renzhi.wsgi:application",
                "--workers",
                "2",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--backlog",
                "2048",
                "--timeout",
                "60",
                "--log-level",
                "warning",
            ],
            cwd=str(ROOT),
            env={**os.environ, **self.env},
            stdout=self.log,
            stderr=self.log,
        )
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                conn.request("GET", "/api/openapi.json")
                conn.getresponse().read()
                return self
            except OSError:
                time.sleep(0.3)
        self.__exit__(None, None, None)
        raise RuntimeError("gunicorn did not start; see " + str(self.tmp / "gunicorn.log"))

    def __exit__(self, *exc) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()


if __name__ == "__main__":
    main()
