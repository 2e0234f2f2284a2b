"""Run the SLA check now: flag overdue appeals, warn those near their deadline, notify.

The same job runs periodically through `manage.py scheduler` + `manage.py db_worker`; this
command is for operators (after downtime, or from cron where no worker runs).
"""

from __future__ import annotations

from django.core.management.base import BaseCommand

from renzhi.appeals.tasks import check_sla


class Command(BaseCommand):
    help = (
        "Check appeal deadlines now: flag overdue appeals and warn those near their deadline "
        "(each appeal is flagged and notified once). Prints how many were newly flagged."
    )

    def handle(self, *args, **options):
        counts = check_sla.call()
        self.stdout.write(
            f"Appeals newly overdue: {counts['overdue']}; warned near the deadline: "
            f"{counts['warned']}."
        )
