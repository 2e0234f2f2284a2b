"""The sweeper: what a crash left half-done is finished later, not lost.

Why: deliveries (webhooks, MQTT, SMS) are written as rows in the same transaction as the change
that causes them (an outbox), and the sending task is enqueued after commit. If the process
dies between the commit and the enqueue, or a worker dies while running a job, nothing would
ever send them. So, periodically (`renzhi.core.tasks.sweep` in RENZHI_PERIODIC_TASKS, or
`manage.py sweep` by hand or from cron):

- every sweep listed in `settings.RENZHI_OUTBOX_SWEEPS` (dotted paths of functions taking the
  grace period in seconds) re-enqueues rows still pending past that grace time
  (`RENZHI_OUTBOX_GRACE`, 120 s);
- django-tasks jobs left RUNNING longer than `RENZHI_JOB_TIMEOUT` (15 min) by a dead worker go
  back to READY, or to FAILED once they were tried `RENZHI_JOB_MAX_TRIES` (3) times.

Delivery is therefore at least once: receivers dedupe on the delivery id they are sent.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string

log = logging.getLogger("renzhi.sweeper")

LOST_WORKER = "renzhi.core.sweeper.WorkerLost"


@dataclass
class SweepReport:
    resent: dict[str, int] = field(default_factory=dict)
    jobs_requeued: int = 0
    jobs_failed: int = 0

    def as_dict(self) -> dict[str, int]:
        return {
            **{f"resent:{k}": v for k, v in self.resent.items()},
            "jobs_requeued": self.jobs_requeued,
            "jobs_failed": self.jobs_failed,
        }


def sweep() -> SweepReport:
    """One pass: stale jobs first (so their deliveries are not counted twice), then outboxes."""
    report = SweepReport()
    report.jobs_requeued, report.jobs_failed = recover_jobs()
    grace = float(getattr(settings, "RENZHI_OUTBOX_GRACE", 120))
    for path in getattr(settings, "RENZHI_OUTBOX_SWEEPS", []):
        try:
            report.resent[path] = import_string(path)(grace)
        except Exception:  # one broken outbox must not stop the others
            log.exception("outbox sweep %s failed", path)
    if any(report.resent.values()) or report.jobs_requeued or report.jobs_failed:
        log.warning("sweeper: %s", report.as_dict())
    return report


def recover_jobs(now: dt.datetime | None = None) -> tuple[int, int]:
    """Jobs RUNNING past the timeout: back to READY, or FAILED after the last try."""
    from django_tasks.base import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    now = now or timezone.now()
    timeout = float(getattr(settings, "RENZHI_JOB_TIMEOUT", 900))
    max_tries = int(getattr(settings, "RENZHI_JOB_MAX_TRIES", 3))
    requeued = failed = 0
    with transaction.atomic():
        stale = DBTaskResult.objects.select_for_update().filter(
            status=TaskResultStatus.RUNNING, started_at__lt=now - dt.timedelta(seconds=timeout)
        )
        for job in stale:
            if len(job.worker_ids or []) >= max_tries:
                job.status = TaskResultStatus.FAILED
                job.finished_at = now
                job.exception_class_path = LOST_WORKER
                job.traceback = f"worker lost {len(job.worker_ids)} times; given up by the sweeper"
                job.save(
                    update_fields=["status", "finished_at", "exception_class_path", "traceback"]
                )
                failed += 1
            else:
                job.status = TaskResultStatus.READY
                job.started_at = None
                job.save(update_fields=["status", "started_at"])
                requeued += 1
    return requeued, failed


def queued_task_args(task_path: str) -> set:
    """First arguments of the jobs of `task_path` waiting or running in the database queue
    (empty for other backends): a sweep does not enqueue again what is already queued."""
    from django_tasks import default_task_backend
    from django_tasks.base import TaskResultStatus

    if not default_task_backend.supports_defer:
        return set()
    from django_tasks_db.models import DBTaskResult

    rows = DBTaskResult.objects.filter(
        task_path=task_path, status__in=[TaskResultStatus.READY, TaskResultStatus.RUNNING]
    ).values_list("args_kwargs", flat=True)
    return {(r.get("args") or [None])[0] for r in rows}
