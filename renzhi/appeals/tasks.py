"""Background jobs of the appeals app (django-tasks; the database backend in production).

`check_sla` is periodic: `manage.py scheduler` enqueues it every `RENZHI_PERIODIC_TASKS`
interval and `manage.py db_worker` runs it. `manage.py appeals_sla` runs it at once.
"""

from __future__ import annotations

from django_tasks import task

from renzhi.appeals import actions


@task()
def check_sla() -> dict[str, int]:
    """Flag appeals past a deadline and warn those near one (see `actions.mark_overdue`).

    Safe to run as often as wanted: each appeal is flagged and notified once.
    """
    return actions.mark_overdue()


@task()
def refresh_metrics() -> dict[str, float]:
    """Bring the dashboard's daily summary tables up to date (incremental; see `rollup`)."""
    from renzhi.appeals import rollup

    report = rollup.refresh()
    return {"days": report.days, "rows": report.rows, "seconds": report.seconds}
