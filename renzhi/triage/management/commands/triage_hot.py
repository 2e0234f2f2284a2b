"""Recompute the hot issues now: `manage.py triage_hot [--days 7] [--top 20]`."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandParser

from renzhi.triage import hot


class Command(BaseCommand):
    help = "Cluster the last days' appeals into hot issues and rank them by heat."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--days", type=int, default=hot.WINDOW_DAYS)
        parser.add_argument("--top", type=int, default=hot.TOP)

    def handle(self, *args, **options) -> None:
        issues = hot.refresh(days=options["days"], top=options["top"])
        self.stdout.write(f"{len(issues)} hot issues")
        for issue in issues[:10]:
            self.stdout.write(
                f"  {issue.rank:>2}. heat {issue.heat:7.2f}  n {issue.count:>3}  "
                f"residents {issue.residents:>3}  {issue.title[:40]}"
            )
