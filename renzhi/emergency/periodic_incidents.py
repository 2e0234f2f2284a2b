"""Background job of the incident side: escalate overdue emergency tasks.

Periodic: `manage.py scheduler` enqueues it every `RENZHI_PERIODIC_TASKS` interval.
"""

from __future__ import annotations

from django_tasks import task

from renzhi.emergency.actions import tasks as task_actions


@task()
def escalate_tasks() -> dict[str, int]:
    """Tell the staff, then the leaders, about emergency tasks past their deadline (each
    level once; safe to run as often as wanted)."""
    return task_actions.escalate_overdue()
