"""Run the outbreak detectors for a day (default today): `manage.py detect [--date D]
[--since D] [--method ears_c2 ...]`. Counts new appeals into the series first."""

from __future__ import annotations

import datetime as dt

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from renzhi.warning import detection, series
from renzhi.warning.models import Method


class Command(BaseCommand):
    help = "Run the configured outbreak detectors over every series and store signals."

    def add_arguments(self, parser):
        parser.add_argument("--date", type=_date, default=None, help="day to evaluate (YYYY-MM-DD)")
        parser.add_argument("--since", type=_date, default=None, help="backfill from this day")
        parser.add_argument(
            "--method", action="append", choices=Method.values, help="only these methods"
        )
        parser.add_argument("--no-refresh", action="store_true", help="do not count new appeals")

    def handle(self, *args, date, since, method, no_refresh, **options):
        day = date or timezone.localdate()
        if since and since > day:
            raise CommandError("--since must not be after --date")
        if not no_refresh:
            series.refresh(self.stdout.write)
        report = detection.run(day, methods=method, progress=self.stdout.write, since=since)
        for problem in report.skipped:
            self.stderr.write(problem)


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"not a date: {value!r}") from exc
