"""Count appeals into the warning series: incremental by default, `--rebuild` from scratch."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from renzhi.warning import series


class Command(BaseCommand):
    help = "Bring the warning series up to date with the appeals (or rebuild them)."

    def add_arguments(self, parser):
        parser.add_argument("--rebuild", action="store_true", help="forget counts and recount")

    def handle(self, *args, rebuild: bool, **options):
        (series.rebuild if rebuild else series.refresh)(self.stdout.write)
