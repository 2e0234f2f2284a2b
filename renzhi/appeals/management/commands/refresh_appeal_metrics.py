"""`manage.py refresh_appeal_metrics [--full]`: bring the dashboard's daily summary tables up to
date (see renzhi.appeals.rollup). Run it every few minutes (cron, systemd timer); the dashboard
answers from the live tables whenever the summary is older than 30 minutes."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from renzhi.appeals import rollup


class Command(BaseCommand):
    help = "Refresh the appeal metrics summary tables (incremental; --full rebuilds)."

    def add_arguments(self, parser):
        parser.add_argument("--full", action="store_true", help="rebuild every day")

    def handle(self, *args, full: bool, **options):
        report = rollup.refresh(full=full)
        if options["verbosity"] > 0:
            kind = "full" if report.full else f"{report.days} day(s)"
            self.stdout.write(
                f"appeal metrics refreshed ({kind}): {report.rows} rows in "
                f"{report.seconds:.2f} s, as of {report.refreshed_at:%Y-%m-%d %H:%M:%S} UTC"
            )
