"""Point-in-polygon lookup speed over the demo city's grids.

Run from the repository root:  .venv/bin/python bench/geo_lookup.py [--points 100000] [--seed N]

Sets Django up on a throw-away SQLite database in a temporary directory, loads the demo city's
places (no residents: they do not affect lookups), builds the grid index and measures
  (a) vectorised batch lookups (`GridIndex.locate_many`), as a bulk import would use;
  (b) one point at a time (`GridIndex.locate_id` in a Python loop), the intake path;
  (c) the full `geo.locate()` with its database reads, for fewer points.
Random points are uniform over the district's bounding box, so some fall outside every grid.
Prints a table and writes bench/results/geo_lookup.json; leaves no other file behind.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import benchkit

sys.dont_write_bytecode = True  # keep __pycache__ out of the tree when run from a clean checkout

ROOT = Path(__file__).resolve().parent.parent
RESULT = ROOT / "bench" / "results" / "geo_lookup.json"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=100_000)
    parser.add_argument("--db-points", type=int, default=2_000)
    parser.add_argument("--seed", type=int, default=20261125)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each path (best is kept)")
    parser.add_argument("--no-write", action="store_true", help="print only; do not write the JSON")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="renzhi-bench-") as tmp:
        benchkit.setup_django(Path(tmp))
        result = run(args)
    _print_table(result)
    if not args.no_write:
        RESULT.parent.mkdir(parents=True, exist_ok=True)
        RESULT.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        print(f"\nwritten {RESULT.relative_to(ROOT)}")


def run(args: argparse.Namespace) -> dict:
    import numpy as np
    import shapely
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from renzhi.core import geo
    from renzhi.core.models import Place, PlaceLevel
    from renzhi.demo.build import build_city

    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    migrate_s = time.perf_counter() - started
    started = time.perf_counter()
    city, _report = build_city(args.seed, residents=False)
    demo_s = time.perf_counter() - started

    started = time.perf_counter()
    index = geo.grid_index()
    build_s = time.perf_counter() - started
    grids = list(Place.objects.filter(level=PlaceLevel.GRID))
    vertices = sum(len(shapely.get_coordinates(g)) for g in index.geoms)

    rng = np.random.default_rng(args.seed)
    minx, miny, maxx, maxy = city.bounds()
    lngs = rng.uniform(minx, maxx, args.points)
    lats = rng.uniform(miny, maxy, args.points)

    xs, ys = lngs.tolist(), lats.tolist()
    n_db = min(args.db_points, args.points)

    # (a) vectorised batch, as a bulk import would locate a whole file at once
    batch = _timed(args.repeat, lambda: index.locate_many(lngs, lats))
    found = batch["value"]
    inside = int((found >= 0).sum())
    # (b) one by one, as intake locates one appeal at a time
    loop = _timed(args.repeat, lambda: [index.locate_id(x, y) for x, y in zip(xs, ys, strict=True)])
    # (c) the full lookup with its database reads (freshness check; the grid's ancestors)
    full = _timed(
        args.repeat,
        lambda: [geo.locate(y, x) for x, y in zip(xs[:n_db], ys[:n_db], strict=True)],
    )
    with CaptureQueriesContext(connection) as captured:
        for x, y in zip(xs[:100], ys[:100], strict=True):
            geo.locate(y, x)

    # Every path must give the same answers, and so must brute force over every grid.
    batch_ids = [None if i < 0 else int(index.ids[i]) for i in found]
    sample = min(args.points, 10_000)
    points = shapely.points(lngs[:sample], lats[:sample])
    brute = np.full(sample, -1)
    for g_index in range(len(index.geoms) - 1, -1, -1):  # smallest code wins on shared edges
        brute[shapely.covers(index.geoms[g_index], points)] = g_index

    return {
        "benchmark": "geo_lookup",
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": _machine(),
        "city": {
            "seed": args.seed,
            "grids": len(grids),
            "vertices": vertices,
            "bbox": [round(v, 6) for v in (minx, miny, maxx, maxy)],
            "migrate_s": round(migrate_s, 3),
            "demo_places_s": round(demo_s, 3),
            "index_build_s": round(build_s, 4),
        },
        "points": args.points,
        "repeat": args.repeat,
        "inside_fraction": round(inside / args.points, 4),
        "outside_fraction": round(1 - inside / args.points, 4),
        "results": [
            _row("a. batch locate_many", args.points, batch),
            _row("b. locate_id one by one", args.points, loop),
            {
                **_row("c. geo.locate() with DB", n_db, full),
                "queries_per_lookup": len(captured) / 100,
            },
        ],
        "checks": {
            "batch_equals_one_by_one": loop["value"] == batch_ids,
            "db_locate_equals_batch": [p.pk if p else None for p in full["value"]]
            == batch_ids[:n_db],
            "index_equals_brute_force": bool((brute == found[:sample]).all()),
            "brute_force_sample": sample,
        },
    }


def _timed(repeat: int, work) -> dict:
    """Best and median wall time of `repeat` runs; the best is least disturbed by other load."""
    runs = []
    for _ in range(repeat):
        started = time.perf_counter()
        value = work()
        runs.append(time.perf_counter() - started)
    return {"best": min(runs), "median": statistics.median(runs), "value": value}


def _row(path: str, points: int, timing: dict) -> dict:
    best = timing["best"]
    return {
        "path": path,
        "points": points,
        "seconds": round(best, 4),
        "median_seconds": round(timing["median"], 4),
        "per_second": round(points / best),
        "us_per_point": round(best / points * 1e6, 3),
    }


def _machine() -> dict:
    import django
    import numpy
    import shapely

    return benchkit.machine(
        django=django.get_version(),
        shapely=shapely.__version__,
        geos=shapely.geos_version_string,
        numpy=numpy.__version__,
        database="SQLite (temporary file)",
    )


def _print_table(result: dict) -> None:
    city = result["city"]
    print(
        f"demo city: {city['grids']} grids, {city['vertices']} vertices; "
        f"index built in {city['index_build_s'] * 1000:.1f} ms"
    )
    print(
        f"{result['points']:,} random points over the district bbox: "
        f"{result['inside_fraction']:.1%} inside a grid, "
        f"{result['outside_fraction']:.1%} outside"
    )
    print()
    header = f"{'path':<26} {'points':>9} {'best s':>9} {'lookups/s':>12} {'µs/lookup':>10}"
    print(header)
    print("-" * len(header))
    for row in result["results"]:
        print(
            f"{row['path']:<26} {row['points']:>9,} {row['seconds']:>9.3f} "
            f"{row['per_second']:>12,} {row['us_per_point']:>10.2f}"
        )
    print()
    print("checks: " + ", ".join(f"{k}={v}" for k, v in result["checks"].items()))
    machine = result["machine"]
    print(
        f"machine: {machine['cpu']} ({machine['cores']} cores, load {machine['load_average']}); "
        f"GEOS {machine['geos']}; best of {result['repeat']} runs"
    )


if __name__ == "__main__":
    main()
