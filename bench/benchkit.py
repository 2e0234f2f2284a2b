"""What every benchmark script shares: the machine it ran on, and a throw-away Django setup.

The scripts run as `python bench/<name>.py`, so this module is importable as `benchkit`.
"""

from __future__ import annotations

import os
import platform
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def machine(**versions: Any) -> dict[str, Any]:
    """CPU, cores, OS, Python and the load average, plus the versions (or other facts) given.

    The load shows how quiet the machine was: other work slows every path."""
    return {
        "cpu": _cpu(),
        "cores": os.cpu_count(),
        "os": platform.platform(),
        "python": platform.python_version(),
        **versions,
        "load_average": [round(v, 2) for v in os.getloadavg()],
    }


def setup_django(tmp: Path, postgres: str | None = None) -> None:
    """Django on a temporary SQLite file in `tmp`, or on `postgres` when given; never the
    operator's `var/` or `DATABASE_URL`."""
    sys.path.insert(0, str(ROOT))
    os.environ.pop("DATABASE_URL", None)
    if postgres:
        os.environ["DATABASE_URL"] = postgres
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "renzhi.settings",
            "SECRET_KEY": "bench-only",
            "RENZHI_VAR_DIR": str(tmp),
            "SQLITE_PATH": str(tmp / "bench.sqlite3"),
            "RENZHI_FAST_HASHER": "1",
            "RENZHI_BENCHMARK": "1",  # a throwaway database: the fast hasher is allowed
            "LOG_LEVEL": "WARNING",
        }
    )
    import django

    django.setup()


def database() -> str:
    """The database Django is connected to, with its server version."""
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SHOW server_version")
            return f"PostgreSQL {cursor.fetchone()[0]} (local, TCP)"
        cursor.execute("select sqlite_version()")
        return f"SQLite {cursor.fetchone()[0]} (temporary file, WAL)"


def _cpu() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()
