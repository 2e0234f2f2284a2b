"""Periodic jobs of the commons app (listed in settings.RENZHI_PERIODIC_TASKS)."""

from __future__ import annotations

from django_tasks import task

from renzhi.commons.actions import timebank, votes


@task()
def close_due_votes() -> int:
    """Count every vote whose fixed window has passed (a vote is never closed early)."""
    return votes.close_due_votes()


@task()
def earn_credits() -> int:
    """Credit the time bank with served hours not credited yet (emergency tasks, call-ups)."""
    return timebank.earn_from_service()
