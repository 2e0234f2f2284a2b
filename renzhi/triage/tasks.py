"""Background jobs of the triage app (django-tasks; run by `manage.py db_worker`).

`refresh_hot_issues` is periodic (`RENZHI_PERIODIC_TASKS`); `retrain` is enqueued from the
model versions page or by an operator's scheduler, and never activates what it trained unless
asked to.
"""

from __future__ import annotations

import logging

from django_tasks import task

log = logging.getLogger("renzhi.triage")


@task()
def refresh_hot_issues() -> dict[str, int]:
    from renzhi.triage import hot

    return {"issues": len(hot.refresh())}


@task()
def retrain(head: str = "all", activate: bool = False) -> dict[str, int]:
    """Train `head` ("category", "unit", "urgency" or "all"); returns the new version ids.

    With "all", an urgency head without enough urgent appeals is skipped (logged), not fatal.
    """
    from renzhi.core.errors import ActionError
    from renzhi.triage import actions

    every = head == "all"
    made: dict[str, int] = {}
    for h in ["category", "unit", "urgency"] if every else [head]:
        try:
            made[h] = actions.train(None, h, activate=activate).pk
        except ActionError as error:
            if not (every and h == "urgency"):
                raise
            log.warning("triage urgency head not trained: %s", error)
    return made
