"""Walk the audit chain and report the first broken link.

Exit status 0 when every event's hash and link check out, 1 otherwise, so a cron job or a
monitoring check can alert on it. Safe to run while the system is in use: events appended
during the walk are left for the next run.
"""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError

from renzhi.core.audit import verify_chain


class Command(BaseCommand):
    help = "Verify the hash-chained audit log; report the first broken link and exit non-zero."

    def add_arguments(self, parser):
        parser.add_argument(
            "--batch-size",
            type=int,
            default=5000,
            help="Events read per query (default 5000).",
        )

    def handle(self, *args, batch_size: int, **options):
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1")
        started = time.monotonic()
        checked, broken = verify_chain(batch_size=batch_size)
        elapsed = time.monotonic() - started
        if broken is None:
            self.stdout.write(
                self.style.SUCCESS(f"Audit chain OK: {checked} events checked in {elapsed:.2f}s.")
            )
            return
        event = f"event id {broken.event_id}" if broken.event_id is not None else "a missing event"
        raise CommandError(
            f"Audit chain broken at {event}, seq {broken.seq}: {broken.reason}. "
            f"{checked} events before it check out."
        )
