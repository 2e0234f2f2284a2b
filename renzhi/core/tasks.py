"""Background jobs of the core app: the periodic sweeper (see renzhi.core.sweeper)."""

from __future__ import annotations

from django_tasks import task


@task()
def sweep() -> dict[str, int]:
    from renzhi.core import sweeper

    return sweeper.sweep().as_dict()
