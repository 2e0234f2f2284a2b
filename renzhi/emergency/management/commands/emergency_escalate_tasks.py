"""Escalate overdue emergency tasks now (the periodic job `periodic_incidents.escalate_tasks`).

For operators: after downtime, or from cron where no worker runs. Each task is escalated once
per level (staff at the deadline, leaders four hours later), so running it again is harmless.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand

from renzhi.emergency.periodic_incidents import escalate_tasks


class Command(BaseCommand):
    help = (
        "Escalate emergency tasks past their deadline: tell the staff running the incident, "
        "then the leaders four hours later. Prints how many were escalated."
    )

    def handle(self, *args, **options):
        counts = escalate_tasks.call()
        self.stdout.write(
            f"Emergency tasks escalated to staff: {counts['staff']}; to leaders: "
            f"{counts['leaders']}."
        )
