"""Outbreak detectors: speed against R surveillance, alarm parity, and detection quality.

    .venv/bin/python bench/detectors.py                       # time, check, write the JSON
    .venv/bin/python bench/detectors.py --export /tmp/dwork   # write the workload for R
    Rscript bench/r/timing.R /tmp/dwork                       # time R (writes bench/r/results/)
    .venv/bin/python bench/detectors.py --r-dir /tmp/dwork    # ... and compare alarms with R's

What it measures (renzhi.warning.detectors; no Django, no database):
1. EARS C1 + C2 + C3 over 10,000 daily series x 730 days, Farrington with Noufaily's settings
   (noPeriods 10, pastWeeksNotIncluded 26, nbPlugin, no power transformation, weightsThreshold
   2.58, trend kept unless it extrapolates) over 10,000 weekly series, evaluating the last 104
   weeks (1,040,000 GLM fits, each refitted after reweighting), best of --repeat runs;
2. beside R's time for the same work, read from bench/r/results/r_timings.json (R is timed on a
   subset of the series and scaled linearly: the R functions loop over series, so their time is
   linear in the number of series);
3. checks: parity with R on the committed fixtures (renzhi/warning/tests/fixtures/detectors) and,
   with --r-dir, identical alarms on the benchmark subset R ran;
4. detection quality on simulated point-source outbreaks (R's sim.pointSource, data and R's
   alarms committed in bench/r/results/sim_*.csv.gz): probability of detection per outbreak,
   false-positive rate per non-outbreak week and weeks to detection, ours beside R's.

The workload is generated here (numpy, --seed) so that R and Python see the same counts.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import benchkit
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from renzhi.warning.detectors import cusum, ears_c, farrington_flexible  # noqa: E402

RESULT = ROOT / "bench" / "results" / "detectors.json"
R_RESULTS = ROOT / "bench" / "r" / "results"
FIXTURES = ROOT / "renzhi" / "warning" / "tests" / "fixtures" / "detectors"
GOAL_SPEEDUP = 20.0
N_SERIES = 10_000
DAILY_DAYS = 730
WEEKS_EVALUATED = 104
NOUFAILY: dict[str, Any] = {
    "freq": 52,
    "b": 5,
    "w": 3,
    "reweight": True,
    "weights_threshold": 2.58,
    "alpha": 0.05,
    "trend": True,
    "p_threshold_trend": 1.0,
    "power_trans": "none",
    "limit54": (5, 4),
    "past_weeks_not_included": 26,
    "no_periods": 10,
    "threshold_method": "nbPlugin",
}
WEEKLY_LENGTH = NOUFAILY["freq"] * NOUFAILY["b"] + NOUFAILY["w"] + WEEKS_EVALUATED
EARS_METHODS = ("C1", "C2", "C3")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", type=int, default=N_SERIES)
    parser.add_argument("--seed", type=int, default=20260101)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--export", type=Path, help="write the workload for bench/r/timing.R")
    parser.add_argument("--r-dir", type=Path, help="directory where timing.R left R's alarms")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    # Always draw the full workload and slice, so series i is the same whatever --series says
    # (R ran on the first series of the full workload).
    daily, weekly = workload(max(args.series, N_SERIES), args.seed)
    daily, weekly = daily[: args.series], weekly[: args.series]
    if args.export:
        export(args.export, daily, weekly)
        return
    result = run(args, daily, weekly)
    print_table(result)
    if not args.no_write:
        RESULT.parent.mkdir(parents=True, exist_ok=True)
        RESULT.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
        print(f"\nwrote {RESULT.relative_to(ROOT)}")


# ---- workload ------------------------------------------------------------------------------


def workload(n_series: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Daily and weekly count series shaped like appeals per community x category.

    Negative binomial around a seasonal mean (weekly cycle for days, yearly for weeks), means
    spread log-uniformly from sparse (0.2) to busy (40), a slow trend in a third of the series,
    and a few injected outbreaks of 2-7 points per series.
    """
    rng = np.random.default_rng(seed)

    def series(length: int, period: float, amplitude: float) -> np.ndarray:
        t = np.arange(length)
        base = np.exp(rng.uniform(np.log(0.2), np.log(40.0), size=(n_series, 1)))
        phase = rng.uniform(0, 2 * np.pi, size=(n_series, 1))
        slope = np.where(rng.random((n_series, 1)) < 1 / 3, rng.normal(0, 0.5, (n_series, 1)), 0)
        mu = base * np.exp(amplitude * np.sin(2 * np.pi * t / period + phase) + slope * t / length)
        size = rng.uniform(2.0, 20.0, size=(n_series, 1))
        counts = rng.negative_binomial(size, size / (size + mu))
        for _ in range(3):
            start = rng.integers(0, length - 8, size=n_series)
            span = rng.integers(2, 8, size=n_series)
            for offset in range(7):
                rows = np.flatnonzero(offset < span)
                cols = start[rows] + offset
                counts[rows, cols] += rng.poisson(2.0 * base[rows, 0] + 2.0)
        return counts.astype(np.int64)

    return series(DAILY_DAYS, 7.0, 0.3), series(WEEKLY_LENGTH, 52.0, 0.5)


def export(directory: Path, daily: np.ndarray, weekly: np.ndarray) -> None:
    """Counts as gzip CSV, one series per row, for R."""
    directory.mkdir(parents=True, exist_ok=True)
    for name, data in (("daily", daily), ("weekly", weekly)):
        with gzip.open(directory / f"{name}.csv.gz", "wt", compresslevel=3) as fh:
            np.savetxt(fh, data, fmt="%d", delimiter=",")
    (directory / "noufaily.json").write_text(json.dumps(NOUFAILY))
    print(f"wrote {daily.shape} daily and {weekly.shape} weekly series to {directory}")


# ---- timing and checks ---------------------------------------------------------------------


def run(args: argparse.Namespace, daily: np.ndarray, weekly: np.ndarray) -> dict[str, Any]:
    ears_timing = _timed(args.repeat, lambda: {m: ears_c(daily, method=m) for m in EARS_METHODS})
    far_timing = _timed(max(1, args.repeat - 1), lambda: farrington_flexible(weekly, **NOUFAILY))
    ears_out: dict[str, Any] = ears_timing["value"]
    far_out = far_timing["value"]
    r_timings = _read_json(R_RESULTS / "r_timings.json")
    rows = [
        _row(
            "EARS C1+C2+C3",
            f"{daily.shape[0]:,} daily series x {daily.shape[1]} days",
            int(sum(np.isfinite(r.upperbound).sum() for r in ears_out.values())),
            ears_timing,
            _r_seconds(r_timings, "ears", daily.shape[0]),
        ),
        _row(
            "Farrington (Noufaily)",
            f"{weekly.shape[0]:,} weekly series, last {WEEKS_EVALUATED} weeks",
            weekly.shape[0] * WEEKS_EVALUATED,
            far_timing,
            _r_seconds(r_timings, "farrington_noufaily", weekly.shape[0]),
        ),
    ]
    checks: dict[str, Any] = {"fixture_parity": fixture_parity()}
    recorded = R_RESULTS / "bench_parity.json"
    if args.r_dir:
        checks["bench_alarms_vs_r"] = bench_parity(args.r_dir, ears_out, far_out)
        if not args.no_write:
            recorded.write_text(json.dumps(checks["bench_alarms_vs_r"], indent=2) + "\n")
    elif recorded.exists():
        # R's alarms on the workload are not committed (too big); the last comparison is.
        checks["bench_alarms_vs_r_recorded"] = _read_json(recorded)
    return {
        "benchmark": "detectors",
        "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": _machine(),
        "r": {k: r_timings.get(k) for k in ("r_version", "surveillance_version", "machine")},
        "settings": {
            "series": args.series,
            "seed": args.seed,
            "repeat": args.repeat,
            "daily_days": DAILY_DAYS,
            "weekly_length": WEEKLY_LENGTH,
            "farrington": {k: list(v) if isinstance(v, tuple) else v for k, v in NOUFAILY.items()},
            "ears": {"baseline": 7, "alpha": 0.001, "min_sigma": 0.0},
        },
        "goal_speedup": GOAL_SPEEDUP,
        "results": rows,
        "checks": checks,
        "quality": quality(),
        "quality_numpy_port": quality_numpy(2000, args.seed),
    }


def _timed(repeat: int, work) -> dict[str, Any]:
    runs = []
    value = None
    for _ in range(repeat):
        started = time.perf_counter()
        value = work()
        runs.append(time.perf_counter() - started)
    return {"best": min(runs), "median": statistics.median(runs), "value": value}


def _r_seconds(r_timings: dict[str, Any], key: str, n_series: int) -> dict[str, Any] | None:
    entry = r_timings.get(key)
    if not entry:
        return None
    scaled = entry["seconds"] / entry["series"] * n_series
    return {"series_timed": entry["series"], "seconds_timed": entry["seconds"], "scaled": scaled}


def _row(name: str, work: str, points: int, timing: dict, r: dict | None) -> dict[str, Any]:
    best = timing["best"]
    row: dict[str, Any] = {
        "method": name,
        "work": work,
        "evaluated_points": points,
        "seconds": round(best, 3),
        "median_seconds": round(timing["median"], 3),
        "us_per_point": round(best / points * 1e6, 3),
    }
    if r:
        row["r_seconds_scaled"] = round(r["scaled"], 1)
        row["r_measured"] = f"{r['seconds_timed']:.1f} s on {r['series_timed']:,} series"
        row["speedup"] = round(r["scaled"] / best, 1)
        row["meets_goal"] = row["speedup"] >= GOAL_SPEEDUP
    return row


def fixture_parity() -> dict[str, Any]:
    """Alarm agreement and worst relative bound difference per committed R fixture."""
    manifest = json.loads((FIXTURES / "manifest.json").read_text())
    functions: dict[str, Any] = {
        "ears_c": ears_c,
        "cusum": cusum,
        "farrington_flexible": farrington_flexible,
    }
    inputs = {
        name: _read_series(FIXTURES / f"{name}_series.csv.gz") for name in ("daily", "weekly")
    }
    out: dict[str, Any] = {"surveillance_version": manifest["surveillance_version"]}
    for name, cfg in manifest["configs"].items():
        counts = inputs[cfg["input"]]
        kwargs = dict(cfg["kwargs"])
        if "limit54" in kwargs:
            kwargs["limit54"] = tuple(kwargs["limit54"])
        ours = functions[cfg["method"]](counts, **kwargs)
        upper, alarm, evaluated = _read_r_output(FIXTURES / cfg["file"], counts.shape)
        mine, theirs = ours.upperbound[evaluated], upper[evaluated]
        with np.errstate(divide="ignore", invalid="ignore"):
            rel = np.abs(mine - theirs) / np.maximum(np.abs(theirs), 1e-300)
        rel = np.where(np.isnan(mine) & np.isnan(theirs), 0.0, rel)
        if cfg["method"] == "cusum":  # R's 0 where its sum is NA; ours NaN
            rel = np.where(np.isnan(mine) & (theirs == 0), 0.0, rel)
        out[name] = {
            "points": int(evaluated.sum()),
            "alarm_agreement": float((ours.alarm == (alarm == 1))[evaluated].mean()),
            "r_alarms": int((alarm == 1).sum()),
            "max_rel_bound_diff": float(np.nanmax(np.where(theirs == 0, np.abs(mine), rel))),
        }
    return out


def bench_parity(directory: Path, ears_out: dict[str, Any], far_out: Any) -> dict[str, Any]:
    """Identical alarms on the subset of the benchmark workload that R ran."""
    out: dict[str, Any] = {}
    for key, ours in [(f"ears_{m}", ears_out[m]) for m in EARS_METHODS] + [
        ("farrington_noufaily", far_out)
    ]:
        path = directory / f"r_{key}.csv.gz"
        if not path.exists():
            continue
        r_alarm = _read_series(path, skip_first_column=False)
        n = min(r_alarm.shape[0], ours.alarm.shape[0])
        mine = ours.alarm[:n, -r_alarm.shape[1] :]
        theirs = r_alarm[:n] == 1
        out[key] = {
            "series": n,
            "points": int(mine.size),
            "alarm_agreement": float((mine == theirs).mean()),
            "alarms_r": int(theirs.sum()),
            "alarms_ours": int(mine.sum()),
        }
    return out


# ---- detection quality ---------------------------------------------------------------------


def quality() -> dict[str, Any]:
    """POD, FPR and delay on R's sim.pointSource data, ours beside R's (same data)."""
    data_path = R_RESULTS / "sim_pointsource.csv.gz"
    if not data_path.exists() or not (R_RESULTS / "sim_r_alarms.csv.gz").exists():
        return {"skipped": "bench/r/results/sim_*.csv.gz missing (run bench/r/timing.R)"}
    with gzip.open(data_path, "rt") as fh:
        rows = list(csv.reader(fh))[1:]
    observed = np.array([[int(v) for v in r[2:]] for r in rows if r[1] == "observed"])
    state = np.array([[int(v) for v in r[2:]] for r in rows if r[1] == "state"])
    r_alarms = _read_r_alarms(R_RESULTS / "sim_r_alarms.csv.gz")
    settings = json.loads((R_RESULTS / "sim_settings.json").read_text())
    first = int(settings["first_evaluated"]) - 1
    ours = {
        "ears_C1": ears_c(observed, method="C1").alarm,
        "ears_C2": ears_c(observed, method="C2").alarm,
        "ears_C3": ears_c(observed, method="C3").alarm,
        "cusum": cusum(observed).alarm,
        "farrington_original": farrington_flexible(
            observed, weights_threshold=1.0, past_weeks_not_included=3
        ).alarm,
        "farrington_noufaily": farrington_flexible(observed, **NOUFAILY).alarm,
    }
    out: dict[str, Any] = {"settings": settings, "methods": {}}
    for method, mine in ours.items():
        entry: dict[str, Any] = {"ours": _detection(mine[:, first:], state[:, first:])}
        if method in r_alarms:
            theirs = r_alarms[method]
            entry["r"] = _detection(theirs[:, first:], state[:, first:])
            entry["alarm_agreement"] = float((mine[:, first:] == theirs[:, first:]).mean())
        out["methods"][method] = entry
    return out


def simulate_point_source(
    rng: np.random.Generator,
    n_series: int,
    length: int,
    *,
    p: float = 0.99,
    r: float = 0.5,
    amplitude: float = 1.0,
    alpha: float = 1.0,
    beta: float = 0.0,
    phi: float = 0.0,
    frequency: float = 1.0,
    k: float = 1.7,
) -> tuple[np.ndarray, np.ndarray]:
    """numpy port of surveillance's sim.pointSource (+ sim.seasonalNoise), many series at once.

    A two-state Markov chain (stay quiet with probability p, stay in an outbreak with probability
    r) switches a multiplicative outbreak effect exp(K) on a seasonal Poisson mean
    exp(A sin(frequency 2 pi (t + phi) / 52) + alpha + beta t), t = 1..length.
    """
    state = np.zeros((n_series, length), dtype=np.int64)
    draws = rng.random((n_series, length))
    for i in range(1, length):
        p_one = np.where(state[:, i - 1] == 1, r, 1.0 - p)
        state[:, i] = draws[:, i] < p_one
    t = np.arange(1, length + 1)
    mu = np.exp(
        amplitude * np.sin(frequency * 2 * np.pi / 52 * (t + phi)) + alpha + beta * t + k * state
    )
    return rng.poisson(mu), state


def quality_numpy(n_series: int, seed: int) -> dict[str, Any]:
    """Our detection quality on a larger sample from the numpy port (no R counterpart)."""
    observed, state = simulate_point_source(np.random.default_rng(seed), n_series, 416)
    first = 52 * 5 + 3
    alarms = {
        "ears_C1": ears_c(observed, method="C1").alarm,
        "ears_C2": ears_c(observed, method="C2").alarm,
        "ears_C3": ears_c(observed, method="C3").alarm,
        "cusum": cusum(observed).alarm,
        "farrington_original": farrington_flexible(
            observed, weights_threshold=1.0, past_weeks_not_included=3
        ).alarm,
        "farrington_noufaily": farrington_flexible(observed, **NOUFAILY).alarm,
    }
    return {
        "settings": f"{n_series} series x 416 weeks from the numpy port, seed {seed}",
        "methods": {m: _detection(a[:, first:], state[:, first:]) for m, a in alarms.items()},
    }


def _detection(alarm: np.ndarray, state: np.ndarray) -> dict[str, Any]:
    """Outbreaks = runs of state 1; detected if an alarm falls inside the run."""
    detected, delays, episodes = 0, [], 0
    for a_row, s_row in zip(alarm, state, strict=True):
        padded = np.concatenate([[0], s_row, [0]])
        starts = np.flatnonzero(np.diff(padded) == 1)
        ends = np.flatnonzero(np.diff(padded) == -1)
        for s, e in zip(starts, ends, strict=True):
            episodes += 1
            hits = np.flatnonzero(a_row[s:e])
            if hits.size:
                detected += 1
                delays.append(int(hits[0]))
    quiet = state == 0
    return {
        "outbreaks": episodes,
        "probability_of_detection": round(detected / episodes, 4) if episodes else None,
        "false_positive_rate": round(float(alarm[quiet].mean()), 5),
        "mean_weeks_to_detection": round(float(np.mean(delays)), 3) if delays else None,
    }


# ---- files and machine ---------------------------------------------------------------------


def _read_json(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text()) if path.exists() else {}


def _read_series(path: Path, skip_first_column: bool = True) -> np.ndarray:
    with gzip.open(path, "rt") as fh:
        rows = list(csv.reader(fh))
    if skip_first_column:
        return np.array([[int(v) for v in r[1:]] for r in rows[1:]], dtype=np.int64)
    return np.array([[-1 if v == "NA" else int(v) for v in r] for r in rows], dtype=np.int64)


def _read_r_output(path: Path, shape: tuple[int, int]):
    upper = np.full(shape, np.nan)
    alarm = np.zeros(shape, dtype=np.int8)
    evaluated = np.zeros(shape, dtype=bool)
    with gzip.open(path, "rt") as fh:
        reader = csv.reader(fh)
        next(reader)
        for s, t, ub, al in reader:
            i, j = int(s) - 1, int(t) - 1
            evaluated[i, j] = True
            upper[i, j] = np.nan if ub == "NA" else float(ub)
            alarm[i, j] = -1 if al == "NA" else int(al)
    return upper, alarm, evaluated


def _read_r_alarms(path: Path) -> dict[str, np.ndarray]:
    """method,series,alarm_1..alarm_T rows -> {method: (n_series, T) bool}."""
    by_method: dict[str, list[tuple[int, list[bool]]]] = {}
    with gzip.open(path, "rt") as fh:
        reader = csv.reader(fh)
        next(reader)
        for row in reader:
            by_method.setdefault(row[0], []).append((int(row[1]), [v == "1" for v in row[2:]]))
    return {m: np.array([a for _, a in sorted(v)]) for m, v in by_method.items()}


def _machine() -> dict[str, Any]:
    import scipy

    return benchkit.machine(numpy=np.__version__, scipy=scipy.__version__)


def print_table(result: dict[str, Any]) -> None:
    header = f"{'method':<22} {'work':<38} {'points':>10} {'ours s':>8} {'R s':>9} {'speedup':>8}"
    print(header)
    print("-" * len(header))
    for row in result["results"]:
        r_s = f"{row['r_seconds_scaled']:.0f}" if "r_seconds_scaled" in row else "-"
        speed = f"{row['speedup']:.0f}x" if "speedup" in row else "-"
        print(
            f"{row['method']:<22} {row['work']:<38} {row['evaluated_points']:>10,} "
            f"{row['seconds']:>8.2f} {r_s:>9} {speed:>8}"
        )
    for row in result["results"]:
        if "r_measured" in row:
            print(f"  R for {row['method']}: {row['r_measured']}, scaled linearly")
    print("\nparity with R on the committed fixtures (alarm agreement, max rel. bound diff):")
    for name, c in result["checks"]["fixture_parity"].items():
        if isinstance(c, dict):
            print(f"  {name:<28} {c['alarm_agreement']:.5f}  {c['max_rel_bound_diff']:.1e}")
    for key in ("bench_alarms_vs_r", "bench_alarms_vs_r_recorded"):
        if key in result["checks"]:
            print("alarms on the benchmark subset R ran:")
            for name, c in result["checks"][key].items():
                print(
                    f"  {name:<28} {c['alarm_agreement']:.5f} on {c['points']:,} points "
                    f"(R {c['alarms_r']} alarms, ours {c['alarms_ours']})"
                )
    q = result["quality"]
    if "methods" in q:
        print(f"\ndetection quality on sim.pointSource ({q['settings']['description']}):")
        print(f"  {'method':<22} {'POD ours/R':>14} {'FPR ours/R':>18} {'delay ours/R':>14}")
        for method, e in q["methods"].items():
            o, r = e["ours"], e.get("r", {})

            def pair(key: str, fmt: str, o=o, r=r) -> str:
                a = "-" if o.get(key) is None else format(o[key], fmt)
                b = "-" if r.get(key) is None else format(r[key], fmt)
                return f"{a}/{b}"

            print(
                f"  {method:<22} {pair('probability_of_detection', '.3f'):>14} "
                f"{pair('false_positive_rate', '.4f'):>18} "
                f"{pair('mean_weeks_to_detection', '.2f'):>14}"
            )
    port = result.get("quality_numpy_port")
    if port:
        print(f"\nours on {port['settings']}:")
        for method, e in port["methods"].items():
            print(
                f"  {method:<22} POD {e['probability_of_detection']:.3f}  "
                f"FPR {e['false_positive_rate']:.4f}  delay {e['mean_weeks_to_detection']}"
            )
    m = result["machine"]
    print(f"\nmachine: {m['cpu']} ({m['cores']} cores, load {m['load_average']})")


if __name__ == "__main__":
    main()
