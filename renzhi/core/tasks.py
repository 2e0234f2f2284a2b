"""Background jobs of the core app: the periodic sweeper (see renzhi.core.sweeper)."""

from __future__ import annotations

from django_tasks import task


@task()
def sweep() -> dict[str, int]:
    from renzhi.core import sweeper

    return sweeper.sweep().as_dict()


@task()
def send_notifications(ids: list[int]) -> int:
    """Run the further senders (SMS, WeChat) of these notification outbox rows."""
    from renzhi.core import notify

    return notify.send_pending(ids)
