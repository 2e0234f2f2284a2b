"""Excel bulk intake of appeals: how long checking and importing a 10,000-row file take.

Run from the repository root:  .venv/bin/python bench/appeals_import.py [--rows 10000] [--seed N]
                                 [--postgres postgres://…/throwaway_db] [--per-row]

Sets Django up on a throw-away SQLite database in a temporary directory (or, with --postgres, on
the given PostgreSQL database, whose `public` schema is DROPPED and recreated first: give a
database that holds nothing else), loads the demo city's
places, units and appeal configuration (categories, routing table, SLA rules), writes an .xlsx
of `--rows` appeals at random points inside the district's grids, with categories drawn by the
demo weights, and times the phases of `renzhi.appeals.actions.imports` separately:
  read      parse the workbook (openpyxl, read-only mode)
  check     validate every row (`validate_table`: one vectorised point lookup, set lookups)
  import    the whole job (`run_import`: read + check + one transaction writing every row
            through `cases.submit_many` in chunks: routing, SLA deadlines, timeline, audit and
            notifications in bulk)
--per-row measures the path before batching instead: `submit_many` replaced by a loop of
`submit_appeal`, one row at a time (same results, ~40 queries per row).
CPU seconds are reported beside wall seconds: on a shared machine the wall clock includes
waiting for the CPU. Prints a table and writes bench/results/appeals_import.json, which keeps
the latest run of each (database, path) pair under "runs".
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import random
import sys
import tempfile
import time
from pathlib import Path

import benchkit

sys.dont_write_bytecode = True

ROOT = Path(__file__).resolve().parent.parent
RESULT = ROOT / "bench" / "results" / "appeals_import.json"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=20261125)
    parser.add_argument(
        "--postgres",
        metavar="URL",
        help="run on this PostgreSQL database instead; its public schema is dropped first",
    )
    parser.add_argument(
        "--per-row", action="store_true", help="the path before batching: submit_appeal per row"
    )
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
        runs[f"{result['database']}/{result['path']}"] = result
        out = {"benchmark": "appeals_import", "runs": dict(sorted(runs.items()))}
        RESULT.write_text(json.dumps(out, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        print(f"\nwritten {RESULT.relative_to(ROOT)}")


def run(args: argparse.Namespace) -> dict:
    import numpy as np
    from django.core.management import call_command
    from django.db import connection
    from openpyxl import Workbook

    from renzhi.appeals import excel
    from renzhi.appeals.actions import imports
    from renzhi.appeals.models import Appeal, ImportJob, State
    from renzhi.core import geo
    from renzhi.core.models import AuditEvent, Membership, Role, User
    from renzhi.demo.appeal_config import load_appeal_config
    from renzhi.demo.build import build_city
    from renzhi.demo.categories import subcategories

    _reset_postgres()
    call_command("migrate", verbosity=0)
    city, _report = build_city(args.seed, residents=False)
    load_appeal_config(city)
    importer = User.objects.create_user(username="bench-importer", password="x")
    Membership.objects.create(user=importer, role=Role.ADMIN, place=None)

    rng = random.Random(args.seed)
    index = geo.grid_index()
    subs = subcategories()
    weights = [s["weight"] for s in subs]
    minx, miny, maxx, maxy = city.bounds()
    points: list[tuple[float, float]] = []
    while len(points) < args.rows:  # keep points inside some grid: a clean file imports fully
        # Rounded as written to the file, so a point near a grid edge is checked where it lands.
        lngs = np.array([round(rng.uniform(minx, maxx), 6) for _ in range(args.rows)])
        lats = np.array([round(rng.uniform(miny, maxy), 6) for _ in range(args.rows)])
        found = index.locate_many(lngs, lats)
        points += [(lat, lng) for lat, lng, i in zip(lats, lngs, found, strict=True) if i >= 0]
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("诉求")
    sheet.append([c.header for c in excel.IMPORT_COLUMNS])
    for i, (lat, lng) in enumerate(points[: args.rows]):
        sub = rng.choices(subs, weights)[0]
        sheet.append(
            [
                f"{sub['name']}：{rng.choice(sub['keywords'])}，请尽快处理（{i}）",
                sub["code"],
                round(lat, 6),
                round(lng, 6),
                "",
                "",
                "张先生",
                f"139{i:08d}",
                f"BENCH-{i}",
                "",
            ]
        )
    out = io.BytesIO()
    workbook.save(out)
    content = out.getvalue()

    read = _timed(lambda: excel.read_table("bench.xlsx", content))
    table = read["value"]
    check = _timed(lambda: imports.validate_table(importer, table))
    rows, errors = check["value"]
    if args.per_row:
        _use_per_row_intake()
    job = imports.start_import(importer, filename="bench.xlsx", content=content)
    full = _timed(lambda: imports.run_import(job.pk))
    job = full["value"]
    dispatched = Appeal.objects.filter(state=State.DISPATCHED).count()

    return {
        "benchmark": "appeals_import",
        "database": connection.vendor,
        "path": "per-row" if args.per_row else "batched",
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": _machine(),
        "rows": args.rows,
        "file_bytes": len(content),
        "seed": args.seed,
        "results": [
            _row("read the workbook", args.rows, read),
            _row("check every row", args.rows, check),
            _row("import (whole job)", args.rows, full),
        ],
        "dispatched_automatically": dispatched,
        "checks": {
            "no_row_errors": not errors and len(rows) == args.rows,
            "job_done": job.status == ImportJob.Status.DONE,
            "every_row_created": job.created == args.rows == Appeal.objects.count(),
            "every_appeal_audited": AuditEvent.objects.filter(verb="appeal.submit").count()
            == args.rows,
        },
    }


def _reset_postgres() -> None:
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("DROP SCHEMA public CASCADE")
        cursor.execute("CREATE SCHEMA public")


def _use_per_row_intake() -> None:
    """The write phase as it was before batching: one `submit_appeal` per row."""
    from renzhi.appeals.actions import cases

    def one_by_one(actor, rows, *, channel="import"):
        return [
            cases.submit_appeal(
                actor,
                channel=channel,
                description=r.description,
                category=r.category,
                lat=r.lat,
                lng=r.lng,
                place=r.place if r.lat is None else None,
                address=r.address,
                contact_name=r.contact_name,
                contact_phone=r.contact_phone,
                external_ref=r.external_ref,
                received_at=r.received_at,
                extra=r.extra,
            ).appeal
            for r in rows
        ]

    cases.submit_many = one_by_one


def _timed(work) -> dict:
    started, cpu = time.perf_counter(), time.process_time()
    value = work()
    return {"wall": time.perf_counter() - started, "cpu": time.process_time() - cpu, "value": value}


def _row(phase: str, rows: int, timing: dict) -> dict:
    return {
        "phase": phase,
        "rows": rows,
        "wall_seconds": round(timing["wall"], 2),
        "cpu_seconds": round(timing["cpu"], 2),
        "rows_per_second": round(rows / timing["wall"]),
        "ms_per_row_cpu": round(timing["cpu"] / rows * 1000, 3),
    }


def _machine() -> dict:
    import django
    import openpyxl

    return benchkit.machine(
        django=django.get_version(), openpyxl=openpyxl.__version__, database=benchkit.database()
    )


def _print_table(result: dict) -> None:
    print(f"{result['database']}, {result['path']} intake")
    print(
        f"{result['rows']:,} rows ({result['file_bytes'] / 1024:.0f} KB .xlsx), "
        f"{result['dispatched_automatically']:,} dispatched automatically by the routing table"
    )
    print()
    header = f"{'phase':<22} {'wall s':>8} {'cpu s':>8} {'rows/s':>8} {'cpu ms/row':>11}"
    print(header)
    print("-" * len(header))
    for row in result["results"]:
        print(
            f"{row['phase']:<22} {row['wall_seconds']:>8.2f} {row['cpu_seconds']:>8.2f} "
            f"{row['rows_per_second']:>8,} {row['ms_per_row_cpu']:>11.3f}"
        )
    print()
    print("checks: " + ", ".join(f"{k}={v}" for k, v in result["checks"].items()))
    machine = result["machine"]
    print(f"machine: {machine['cpu']} ({machine['cores']} cores, load {machine['load_average']})")


if __name__ == "__main__":
    main()
