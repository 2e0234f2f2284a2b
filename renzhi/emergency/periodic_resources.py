"""Background job of the resources side: expiry warnings for reserves and overdue check-ins on
vulnerable residents.

Periodic: `manage.py scheduler` enqueues it every `RENZHI_PERIODIC_TASKS` interval. Both halves
notify once per occasion (a batch crossing 30 or 7 days, a missed due time), so running it
often is safe.
"""

from __future__ import annotations

from django_tasks import task

from renzhi.emergency import expiry
from renzhi.emergency.actions import vulnerable


@task()
def remind() -> dict[str, int]:
    return {
        "expiry_warnings": expiry.warn_expiring(),
        "overdue_checkins": vulnerable.escalate_overdue(),
    }
