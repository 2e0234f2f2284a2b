"""Train the triage classifier heads from handled appeals: `manage.py triage_train`.

    manage.py triage_train [--head category|unit|urgency|all] [--activate] [--max-rows N]
                           [--target 0.95]

Prints a progress bar per head, the time taken and the validation metrics (out-of-fold: on
appeals each model did not learn from). Without `--activate` the new version waits on the
model versions page; the running model stays until someone switches. With `--head all` an
urgency head that cannot be trained (too few urgent handled appeals) is skipped with its reason;
the urgency rules keep working without a model. `--target` is the precision target of the
category and unit heads; the urgency head's threshold aims at recall (`urgency_model`).
"""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError, CommandParser

from renzhi.core.errors import ActionError
from renzhi.triage import actions
from renzhi.triage.training import DEFAULT_MAX_ROWS, DEFAULT_TARGET

STAGES = {"data": "reading appeals", "fit": "fitting", "measure": "measuring", "done": "saved"}
BAR = 30


class Command(BaseCommand):
    help = "Train the triage classifier heads (category, unit, urgency) from handled appeals."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--head", choices=["category", "unit", "urgency", "all"], default="all")
        parser.add_argument("--activate", action="store_true", help="make the new version active")
        parser.add_argument("--max-rows", type=int, default=DEFAULT_MAX_ROWS)
        parser.add_argument("--target", type=float, default=DEFAULT_TARGET)

    def handle(self, *args, **options) -> None:
        every = options["head"] == "all"
        heads = ["category", "unit", "urgency"] if every else [options["head"]]
        for head in heads:
            started = time.perf_counter()

            def progress(
                stage: str, done: int, total: int, head: str = head, started: float = started
            ) -> None:
                filled = BAR * done // max(total, 1)
                bar = "#" * filled + "-" * (BAR - filled)
                elapsed = time.perf_counter() - started
                self.stdout.write(
                    f"\r{head:<8} [{bar}] {STAGES.get(stage, stage):<16} {elapsed:6.1f}s",
                    ending="\n" if stage == "done" else "",
                )
                self.stdout.flush()

            try:
                version = actions.train(
                    None,
                    head,
                    activate=options["activate"],
                    max_rows=options["max_rows"] or None,
                    target=options["target"],
                    progress=progress,
                )
            except ActionError as error:
                self.stdout.write("")
                if every and head == "urgency":
                    self.stdout.write(f"urgency: skipped — {error}")
                    continue
                raise CommandError(str(error)) from error
            seconds = time.perf_counter() - started
            auto = (
                f"{version.auto_share:.1%} at precision {version.auto_precision:.3f}"
                if version.auto_precision is not None
                else "none (no class reaches the target precision)"
            )
            self.stdout.write(
                f"{head}: version {version.pk}, {version.rows} rows, {len(version.classes)} "
                f"classes, {seconds:.1f}s (fit {version.fit_seconds:.1f}s)\n"
                f"  accuracy {version.accuracy:.4f}  macro-F1 {version.macro_f1:.4f}  "
                f"automatic: {auto}\n"
                f"  {'active' if version.active else 'not active (use --activate or the page)'}"
            )
            if version.measures:
                m = version.measures
                self.stdout.write(
                    f"  threshold p(urgent) ≥ {m['threshold']:.3f}: recall {m['recall']:.3f} "
                    f"(target {m['target_recall']:.2f}{'' if m['target_met'] else ', NOT met'}; "
                    f"rules alone {m['rules_recall']:.3f}, model alone {m['model_recall']:.3f}), "
                    f"flags {m['flag_share']:.1%} of appeals, missed {m['missed']} of "
                    f"{m['urgent_rows']}"
                )
            worst = sorted(version.per_class.items(), key=lambda kv: kv[1]["f1"])[:5]
            for label, m in worst:
                self.stdout.write(
                    f"    {version.names.get(label, label)[:24]:<24} P {m['precision']:.3f} "
                    f"R {m['recall']:.3f} F1 {m['f1']:.3f} n {m['support']}"
                )
