"""Purge personal data older than a date, never audit or login records inside the retention.

What goes (docs/security.md, "Audit chain and retention"):
- audit events recorded before DATE (they hold names, IP addresses and user agents): the oldest
  part of the chain is deleted and the chain's new start is signed with the audit key, so
  `verify_audit` still checks everything that remains;
- login records of django-axes (attempts, logs, failures) from before DATE, when installed;
- in-app notifications created before DATE;
- expired sessions.

Audit and login records younger than RENZHI_AUDIT_RETENTION_DAYS (at least 183 days, six
months) are kept: a DATE inside that window is refused. `--dry-run` counts and changes nothing.
The purge itself is recorded in the audit chain.
"""

from __future__ import annotations

import datetime as dt

from django.apps import apps
from django.conf import settings
from django.contrib.sessions.models import Session
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from renzhi.core import audit
from renzhi.core.models import AuditEvent, Notification

# django-axes models and their time column, purged when the app is installed.
LOGIN_RECORDS = [
    ("axes", "AccessAttempt", "attempt_time"),
    ("axes", "AccessLog", "attempt_time"),
    ("axes", "AccessFailureLog", "attempt_time"),
]


class Command(BaseCommand):
    help = "Purge personal data (audit events, login records, notifications) older than a date."

    def add_arguments(self, parser):
        parser.add_argument("--before", required=True, help="YYYY-MM-DD (UTC midnight).")
        parser.add_argument("--dry-run", action="store_true", help="Count only; change nothing.")

    def handle(self, *args, before: str, dry_run: bool, **options):
        cutoff = _cutoff(before)
        counts = purge(cutoff, dry_run=dry_run)
        verb = "Would purge" if dry_run else "Purged"
        for name, count in counts.items():
            self.stdout.write(f"{verb} {count} {name}.")


def purge(cutoff: dt.datetime, *, dry_run: bool = False) -> dict[str, int]:
    """Delete what the module docstring lists from before `cutoff`; returns counts by kind."""
    counts: dict[str, int] = {}
    with transaction.atomic():
        last = (
            AuditEvent.objects.filter(at__lt=cutoff)
            .order_by("-seq")
            .values_list("seq", "hash")
            .first()
        )
        old_events = AuditEvent.objects.filter(seq__lte=last[0]) if last else None
        counts["audit events"] = old_events.count() if old_events is not None else 0
        for app_label, model_name, column in LOGIN_RECORDS:
            if apps.is_installed(app_label):
                model = apps.get_model(app_label, model_name)
                rows = model.objects.filter(**{f"{column}__lt": cutoff})
                counts[f"login records ({model_name})"] = _drop(rows, dry_run)
        counts["notifications"] = _drop(Notification.objects.filter(created_at__lt=cutoff), dry_run)
        counts["expired sessions"] = _drop(
            Session.objects.filter(expire_date__lt=timezone.now()), dry_run
        )
        if not dry_run and last is not None and old_events is not None:
            audit.sync_head()
            audit.set_base(last[0], last[1])
            old_events.delete()
            audit.record(
                None,
                "audit.purge",
                label="personal data",
                object_type="core.auditevent",
                after={"before": cutoff.isoformat(), "counts": counts, "base_seq": last[0]},
            )
    return counts


def _cutoff(value: str) -> dt.datetime:
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"--before: {value!r} is not a date (YYYY-MM-DD).") from None
    cutoff = dt.datetime.combine(day, dt.time.min, tzinfo=dt.UTC)
    keep_from = timezone.now() - dt.timedelta(days=settings.RENZHI_AUDIT_RETENTION_DAYS)
    if cutoff > keep_from:
        raise CommandError(
            f"--before: audit and login records are kept {settings.RENZHI_AUDIT_RETENTION_DAYS} "
            f"days; the latest date allowed is {keep_from.date().isoformat()}."
        )
    return cutoff


def _drop(rows, dry_run: bool) -> int:
    if dry_run:
        return rows.count()
    return rows.delete()[0]
