"""Walk the audit chain and report the first broken link; optionally anchor the head.

Exit status 0 when every event's hash, HMAC and link check out and every anchor in the anchor
file matches, 1 otherwise, so a cron job or a monitoring check can alert on it. Safe to run
while the system is in use: events appended during the walk are left for the next run.

`--anchor` appends the head to the anchor file after a clean walk: run it from cron (every ten
minutes, say) so a rewrite of the chain in the database is caught even by someone who holds the
audit key. `--seal` gives events written before the HMAC existed their HMAC, once, after the
upgrade and only if the chain is otherwise sound.
"""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError

from renzhi.core.audit import seal_unsealed, verify_chain, write_anchor


class Command(BaseCommand):
    help = "Verify the hash-chained audit log; report the first broken link and exit non-zero."

    def add_arguments(self, parser):
        parser.add_argument(
            "--batch-size",
            type=int,
            default=5000,
            help="Events read per query (default 5000).",
        )
        parser.add_argument(
            "--anchor-file",
            default=None,
            help="Anchor file to check and append to (default: RENZHI_AUDIT_ANCHOR_FILE).",
        )
        parser.add_argument(
            "--anchor",
            action="store_true",
            help="After a clean walk, append the chain head to the anchor file.",
        )
        parser.add_argument(
            "--seal",
            action="store_true",
            help="Once after upgrading: give events written before the HMAC existed their HMAC.",
        )

    def handle(self, *args, batch_size: int, anchor_file, anchor: bool, seal: bool, **options):
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1")
        started = time.monotonic()
        checked, broken = verify_chain(batch_size=batch_size, anchor_file=anchor_file)
        if seal and broken is not None and "no HMAC" in broken.reason:
            sealed = seal_unsealed()
            checked, broken = verify_chain(batch_size=batch_size, anchor_file=anchor_file)
            self.stdout.write(f"Sealed {sealed} events written before the audit HMAC.")
        elapsed = time.monotonic() - started
        if broken is None:
            self.stdout.write(
                self.style.SUCCESS(f"Audit chain OK: {checked} events checked in {elapsed:.2f}s.")
            )
            if anchor:
                written = write_anchor(anchor_file)
                if written is not None:
                    self.stdout.write(f"Anchored the head at seq {written.seq}.")
            return
        event = f"event id {broken.event_id}" if broken.event_id is not None else "a missing event"
        raise CommandError(
            f"Audit chain broken at {event}, seq {broken.seq}: {broken.reason}. "
            f"{checked} events before it check out."
        )
