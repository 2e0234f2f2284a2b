"""`manage.py sweep`: one pass of the sweeper (re-send pending deliveries, recover jobs left
RUNNING by a dead worker). The scheduler runs it periodically; run it by hand after a crash."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from renzhi.core import sweeper


class Command(BaseCommand):
    help = (
        "Re-send deliveries left pending past the grace time and recover background jobs "
        "left running by a dead worker."
    )

    def handle(self, *args, **options) -> None:
        report = sweeper.sweep()
        for name, count in report.as_dict().items():
            self.stdout.write(f"{name}: {count}")
