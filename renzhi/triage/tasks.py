"""Background jobs of the triage app (django-tasks; run by `manage.py db_worker`).

`refresh_hot_issues` is periodic (`RENZHI_PERIODIC_TASKS`); `retrain` is enqueued from the
model versions page or by an operator's scheduler, and never activates what it trained unless
asked to.
"""

from __future__ import annotations

from django_tasks import task


@task()
def refresh_hot_issues() -> dict[str, int]:
    from renzhi.triage import hot

    return {"issues": len(hot.refresh())}


@task()
def retrain(head: str = "all", activate: bool = False) -> dict[str, int]:
    """Train `head` ("category", "unit" or "all"); returns the new version ids."""
    from renzhi.triage import actions

    heads = ["category", "unit"] if head == "all" else [head]
    return {h: actions.train(None, h, activate=activate).pk for h in heads}
