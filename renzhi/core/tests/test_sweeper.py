"""The sweeper recovers jobs left RUNNING by a dead worker and re-sends outbox rows whose
sending task was lost (the warning outbox is tested in renzhi/warning/tests/test_outbox.py)."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult, get_date_max

from renzhi.core import sweeper


def _job(status=TaskResultStatus.RUNNING, started_minutes_ago=60, tries=1) -> DBTaskResult:
    return DBTaskResult.objects.create(
        status=status,
        started_at=timezone.now() - dt.timedelta(minutes=started_minutes_ago),
        args_kwargs={"args": [], "kwargs": {}},
        task_path="renzhi.warning.tasks.expire_warnings",
        backend_name="default",
        run_after=get_date_max(),
        worker_ids=[f"w{n}" for n in range(tries)],
    )


def test_a_job_left_running_by_a_dead_worker_is_ready_again(db, settings):
    settings.RENZHI_JOB_TIMEOUT = 900
    lost = _job(started_minutes_ago=60, tries=1)
    busy = _job(started_minutes_ago=1, tries=1)
    assert sweeper.recover_jobs() == (1, 0)
    lost.refresh_from_db()
    busy.refresh_from_db()
    assert (lost.status, lost.started_at) == (TaskResultStatus.READY, None)
    assert busy.status == TaskResultStatus.RUNNING


def test_a_job_that_killed_its_worker_too_often_is_given_up(db, settings):
    settings.RENZHI_JOB_MAX_TRIES = 3
    poison = _job(tries=3)
    assert sweeper.recover_jobs() == (0, 1)
    poison.refresh_from_db()
    assert poison.status == TaskResultStatus.FAILED
    assert poison.exception_class_path == sweeper.LOST_WORKER


def test_finished_and_waiting_jobs_are_left_alone(db):
    done = _job(status=TaskResultStatus.SUCCESSFUL)
    waiting = _job(status=TaskResultStatus.READY)
    assert sweeper.recover_jobs() == (0, 0)
    assert DBTaskResult.objects.get(pk=done.pk).status == TaskResultStatus.SUCCESSFUL
    assert DBTaskResult.objects.get(pk=waiting.pk).status == TaskResultStatus.READY


def test_the_sweep_command_reports_what_it_did(db):
    _job(tries=1)
    out = io.StringIO()
    call_command("sweep", stdout=out)
    assert "jobs_requeued: 1" in out.getvalue()


def test_the_sweeper_is_a_periodic_task(settings):
    from renzhi.core.management.commands.scheduler import load_schedule

    _schedule, tasks = load_schedule(settings.RENZHI_PERIODIC_TASKS)
    assert "renzhi.core.tasks.sweep" in tasks
    assert "renzhi.warning.tasks.resend_pending" in settings.RENZHI_OUTBOX_SWEEPS


@pytest.mark.parametrize("broken", ["renzhi.no_such.sweep"])
def test_a_broken_outbox_sweep_does_not_stop_the_others(db, settings, broken):
    settings.RENZHI_OUTBOX_SWEEPS = [broken, "renzhi.warning.tasks.resend_pending"]
    report = sweeper.sweep()
    assert report.resent == {"renzhi.warning.tasks.resend_pending": 0}
