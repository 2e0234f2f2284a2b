"""Enqueue periodic background tasks at their intervals.

django-tasks queues and runs tasks but has no clock of its own. This loop is that clock: it reads
`settings.RENZHI_PERIODIC_TASKS` ({"dotted.path.to.task": interval in seconds}), enqueues each
task when its interval has passed, and sleeps in between. The tasks run in `manage.py db_worker`
(the django_tasks_db worker), so a deployment runs both, side by side, and exactly one
scheduler (two would enqueue everything twice).

Intervals count from the scheduler's start: every task is enqueued once at start, then every
interval. A task that fails to enqueue is logged and retried at its next interval; the loop
goes on.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import close_old_connections
from django.utils.module_loading import import_string
from django_tasks.base import Task, TaskResultStatus

log = logging.getLogger("renzhi.scheduler")


@dataclass
class Schedule:
    """Which tasks are due at a given moment (monotonic seconds); no clock of its own."""

    intervals: dict[str, float]
    next_due: dict[str, float] = field(default_factory=dict)

    def due(self, now: float) -> list[str]:
        """Tasks due at `now`, each moved on to its next run (first call: all of them)."""
        due = [path for path in self.intervals if self.next_due.get(path, now) <= now]
        for path in due:
            self.next_due[path] = now + self.intervals[path]
        return due

    def seconds_to_next(self, now: float) -> float:
        return max(0.0, min(self.next_due.values(), default=now) - now)


def load_schedule(registry: dict) -> tuple[Schedule, dict[str, Task]]:
    """Check the registry: every path a django-tasks task, every interval a positive number."""
    if not isinstance(registry, dict):
        raise CommandError("RENZHI_PERIODIC_TASKS must be a dict {dotted path: seconds}.")
    tasks: dict[str, Task] = {}
    intervals: dict[str, float] = {}
    for path, seconds in registry.items():
        try:
            found = import_string(path)
        except ImportError as exc:
            raise CommandError(f"RENZHI_PERIODIC_TASKS: cannot import {path!r}: {exc}") from exc
        if not isinstance(found, Task):
            raise CommandError(f"RENZHI_PERIODIC_TASKS: {path!r} is not a @task() function.")
        if isinstance(seconds, bool) or not isinstance(seconds, int | float) or seconds <= 0:
            raise CommandError(
                f"RENZHI_PERIODIC_TASKS: the interval of {path!r} must be a number of seconds "
                f"above 0, not {seconds!r}."
            )
        tasks[path], intervals[path] = found, float(seconds)
    return Schedule(intervals), tasks


class Command(BaseCommand):
    help = (
        "Enqueue the periodic tasks of settings.RENZHI_PERIODIC_TASKS ({dotted path: interval "
        "in seconds}, e.g. renzhi.appeals.tasks.check_sla every 600 s) at their intervals. "
        "Runs beside `manage.py db_worker`, the django_tasks_db worker that executes what this "
        "enqueues; run exactly one scheduler. --once enqueues every task once and exits."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--once", action="store_true", help="Enqueue every task once, then exit."
        )
        parser.add_argument(
            "--max-sleep",
            type=float,
            default=30.0,
            help="Longest sleep between checks, in seconds (default 30).",
        )

    def handle(self, *args, once: bool, max_sleep: float, **options):
        if max_sleep <= 0:
            raise CommandError("--max-sleep must be above 0.")
        schedule, tasks = load_schedule(getattr(settings, "RENZHI_PERIODIC_TASKS", {}))
        if not tasks:
            self.stderr.write("No periodic tasks: settings.RENZHI_PERIODIC_TASKS is empty.")
            return
        if not once:
            self.stdout.write(
                "Scheduler started: "
                + ", ".join(f"{p} every {s:g} s" for p, s in schedule.intervals.items())
            )
        try:
            while True:
                for path in schedule.due(time.monotonic()):
                    self._enqueue(path, tasks[path])
                if once:
                    return
                time.sleep(min(max_sleep, max(0.5, schedule.seconds_to_next(time.monotonic()))))
                close_old_connections()  # the loop outlives CONN_MAX_AGE and dropped connections
        except KeyboardInterrupt:
            self.stdout.write("Scheduler stopped.")

    def _enqueue(self, path: str, task: Task) -> None:
        try:
            result = task.enqueue()
        except Exception:  # the loop must survive a failing enqueue (e.g. database down)
            log.exception("could not enqueue %s", path)
            self.stderr.write(f"Could not enqueue {path}; retrying at its next interval.")
            return
        status = result.status
        if status == TaskResultStatus.FAILED:  # only visible with a synchronous backend
            self.stderr.write(f"{path} failed: {result.errors[-1].traceback.strip()}")
            return
        suffix = f" → {result.return_value}" if status == TaskResultStatus.SUCCESSFUL else ""
        self.stdout.write(f"Enqueued {path} (id {result.id}, {status.label}){suffix}")
