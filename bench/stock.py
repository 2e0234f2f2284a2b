"""Stock ledger throughput: stock moves per second on PostgreSQL, with and without contention.

Run from the repository root:
    .venv/bin/python bench/stock.py --postgres postgres://…/throwaway_db [--moves 2000]
                                    [--threads 8] [--no-write]

The `public` schema of the given database is DROPPED and recreated first: give a database that
holds nothing else. Without --postgres it runs on a throw-away SQLite file (one writer at a
time, so only the single-thread rows mean anything there).

Scenarios, each `--moves` issues of one unit through `actions.reserves.issue` (lock the item's
batches, FEFO, one StockMove, the F() update, one audit event), threads with their own
connections:
  serial        one thread, one depot
  spread        `--threads` threads, each on its own depot (no shared stock rows)
  contended     `--threads` threads on the SAME depot × item (every move waits for the row lock)
  transfers     `--threads` threads transferring one unit back and forth between two depots
                (both directions at once: the fixed lock order must keep it deadlock-free)
  ledger-only   as `contended`, but calling the ledger core (`_take`) without the audit event,
                to show what the audit chain's global lock costs
Every scenario ends by checking that each batch equals the sum of its moves and none is
negative. Prints a table and writes bench/results/stock.json (latest run per database).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import threading
import time
from pathlib import Path

import benchkit

sys.dont_write_bytecode = True

ROOT = Path(__file__).resolve().parent.parent
RESULT = ROOT / "bench" / "results" / "stock.json"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--moves", type=int, default=2000)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--postgres", metavar="URL", help="PostgreSQL database to DROP and use")
    parser.add_argument("--no-write", action="store_true", help="print only; do not write JSON")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="renzhi-bench-") as tmp:
        benchkit.setup_django(Path(tmp), args.postgres)
        result = run(args)
    _print_table(result)
    if not args.no_write:
        RESULT.parent.mkdir(parents=True, exist_ok=True)
        try:
            saved = json.loads(RESULT.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            saved = {}
        runs = saved.get("runs", {}) if isinstance(saved.get("runs"), dict) else {}
        runs[result["database"]] = result
        out = {"benchmark": "stock", "runs": dict(sorted(runs.items()))}
        RESULT.write_text(json.dumps(out, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        print(f"\nwritten {RESULT.relative_to(ROOT)}")


def run(args: argparse.Namespace) -> dict:
    from django.db import connection

    _schema()
    world = _world(args.threads)
    postgres = connection.vendor == "postgresql"
    threads = args.threads if postgres else 1
    scenarios = [
        ("serial", 1, lambda i, n: _issue(world, world["depots"][0])),
        ("spread", threads, lambda i, n: _issue(world, world["depots"][1 + i % threads])),
        ("contended", threads, lambda i, n: _issue(world, world["hot"])),
        ("transfers", threads, lambda i, n: _transfer(world, i, n)),
        ("ledger-only", threads, lambda i, n: _take(world, world["hot"])),
    ]
    rows = []
    for name, t, work in scenarios:
        _refill(world)
        seconds, cpu, refused = _race(t, args.moves, work)
        _check_ledger()
        moves = args.moves * (2 if name == "transfers" else 1)
        rows.append(
            {
                "scenario": name,
                "threads": t,
                "operations": args.moves,
                "stock_moves": moves,
                "refused": refused,
                "seconds": round(seconds, 3),
                "cpu_seconds": round(cpu, 3),
                "moves_per_second": round(moves / seconds, 1),
            }
        )
    return {
        "database": "postgresql" if postgres else "sqlite",
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": _machine(),
        "results": rows,
    }


# --- Scenarios --------------------------------------------------------------------------------


def _issue(world, depot) -> None:
    from renzhi.emergency.actions import reserves

    reserves.issue(None, depot, world["item"], 1, reason="bench")


def _take(world, depot) -> None:
    from django.db import transaction

    from renzhi.emergency.actions import reserves
    from renzhi.emergency.models import MoveKind

    with transaction.atomic():
        reserves._take(depot, world["item"], 1, MoveKind.ISSUE, None, reason="bench")


def _transfer(world, i: int, n: int) -> None:
    from renzhi.emergency.actions import reserves

    a, b = world["pair"]
    source, target = (a, b) if (i + n) % 2 == 0 else (b, a)
    reserves.transfer(None, source, target, world["item"], 1, reason="bench")


def _race(threads: int, total: int, work) -> tuple[float, float, int]:
    """Run `total` operations spread over `threads` threads; (wall s, CPU s, refusals)."""
    from django.db import connection

    from renzhi.core.errors import ActionError

    barrier = threading.Barrier(threads + 1)
    refused = [0] * threads
    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            connection.ensure_connection()
            barrier.wait()
            for n in range(i, total, threads):
                try:
                    work(i, n)
                except ActionError:
                    refused[i] += 1
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    pool = [threading.Thread(target=run, args=(i,)) for i in range(threads)]
    for t in pool:
        t.start()
    barrier.wait()
    started, cpu0 = time.perf_counter(), time.process_time()
    for t in pool:
        t.join()
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu0
    if errors:
        raise errors[0]
    return seconds, cpu, sum(refused)


# --- Setup ------------------------------------------------------------------------------------


def _world(threads: int) -> dict:
    from renzhi.core.models import Place
    from renzhi.emergency.models import Depot, Item

    district = Place.objects.create(code="110199", name="基准区", level="district")
    street = Place.objects.create(
        code="110199001", name="基准街道", level="street", parent=district
    )
    community = Place.objects.create(
        code="110199001001", name="基准社区", level="community", parent=street, population=10000
    )
    item = Item.objects.create(
        code="water", name="水", unit="瓶", category="water", shelf_life_days=365
    )
    depots = [
        Depot.objects.create(code=f"d{n}", name=f"储备点{n}", kind="community", place=community)
        for n in range(threads + 4)
    ]
    return {"item": item, "depots": depots, "hot": depots[-3], "pair": depots[-2:]}


def _refill(world) -> None:
    """Enough stock everywhere for the next scenario, in three batches of different expiry."""
    import datetime as dt

    from django.utils import timezone

    from renzhi.emergency.actions import reserves

    today = timezone.localdate()
    for depot in world["depots"]:
        for days in (30, 90, 300):
            reserves.receive(
                None, depot, world["item"], 20_000, expires_on=today + dt.timedelta(days=days)
            )


def _check_ledger() -> None:
    from django.db.models import Sum

    from renzhi.emergency.models import StockBatch

    for batch in StockBatch.objects.annotate(moved=Sum("moves__quantity")):
        assert batch.quantity == batch.moved >= 0, batch


def _schema() -> None:
    """Migrate; create the emergency tables directly while the app has no migration yet."""
    from django.apps import apps
    from django.core.management import call_command
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
    call_command("migrate", verbosity=0)
    if "emergency_depot" not in connection.introspection.table_names():
        with connection.schema_editor() as editor:
            for model in apps.get_app_config("emergency").get_models():
                editor.create_model(model)


def _machine() -> dict:
    import django

    return benchkit.machine(django=django.get_version(), database=benchkit.database())


def _print_table(result: dict) -> None:
    print(f"stock ledger on {result['machine']['database']} ({result['machine']['cores']} cores)")
    head = f"{'scenario':<12} {'threads':>7} {'moves':>7} {'refused':>7} {'seconds':>8} "
    print(head + f"{'moves/s':>9}")
    for r in result["results"]:
        print(
            f"{r['scenario']:<12} {r['threads']:>7} {r['stock_moves']:>7} {r['refused']:>7} "
            f"{r['seconds']:>8.2f} {r['moves_per_second']:>9.1f}"
        )


if __name__ == "__main__":
    main()
