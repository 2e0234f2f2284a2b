"""Score a triage classifier on any labelled .xlsx/.csv file.

    manage.py triage_evaluate --file cases.xlsx --text-column 诉求内容 --label-column 分类
    manage.py triage_evaluate --file data.csv --text-column text --label-column label --model m.bin
    manage.py triage_evaluate --file data.csv --text-column text --label-column label --holdout 0.2

Without --model it scores the active model of --head (default category). --holdout trains a
fresh classifier on the rest of the file and scores the held-out share: how well the method
does on the file's own labels, whatever the labels are.
"""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from renzhi.triage.evaluation import (
    InputFileError,
    format_report,
    holdout_split,
    read_labelled,
    score,
)
from renzhi.triage.model import ModelFormatError, TextClassifier

NO_MODEL = "No trained model; run manage.py triage_train or pass --model."


class Command(BaseCommand):
    help = (
        "Print accuracy, macro-F1 and a per-class table (precision, recall, F1, support) of the "
        "triage classifier on a labelled .xlsx or .csv file."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--file", required=True, help="labelled .xlsx or .csv file")
        parser.add_argument("--text-column", required=True, help="header of the text column")
        parser.add_argument("--label-column", required=True, help="header of the label column")
        source = parser.add_mutually_exclusive_group()
        source.add_argument("--model", help="a saved model file (default: the active model)")
        source.add_argument(
            "--holdout",
            type=float,
            help="train a new model on the file and score this share of it (e.g. 0.2)",
        )
        parser.add_argument(
            "--head", default="category", help="which active model: category (default) or unit"
        )
        parser.add_argument("--seed", type=int, default=0, help="seed of the --holdout split")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            texts, labels, skipped = read_labelled(
                options["file"], options["text_column"], options["label_column"]
            )
        except InputFileError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"Read {len(texts)} labelled rows from {options['file']}.")
        if skipped:
            self.stdout.write(f"Skipped {skipped} rows without a label.")
        holdout = options.get("holdout")
        if holdout is not None:
            model, texts, labels = self._train_on_holdout(texts, labels, holdout, options["seed"])
        else:
            model = self._model(options.get("model"), options["head"])
            self._describe(model)
        unknown = sorted(set(labels) - set(model.classes))
        if unknown:
            self.stderr.write(
                f"Warning: {len(unknown)} label(s) of the file are not classes of the model "
                f"(e.g. {', '.join(unknown[:5])}); the model knows: "
                f"{', '.join(model.classes[:10])}{' …' if len(model.classes) > 10 else ''}."
            )
        started = time.perf_counter()
        predicted = model.predict(texts)
        seconds = time.perf_counter() - started
        report = score(labels, predicted)
        self.stdout.write(format_report(report))
        self.stdout.write(
            f"\nPredicted {report.n} texts in {seconds:.2f} s "
            f"({seconds / max(report.n, 1) * 1000:.3f} ms per text)."
        )

    def _model(self, path: str | None, head: str) -> TextClassifier:
        if path:
            try:
                return TextClassifier.load(path)
            except FileNotFoundError as exc:
                raise CommandError(f"Model file not found: {path}") from exc
            except (ModelFormatError, OSError) as exc:
                raise CommandError(f"Cannot use model {path}: {exc}") from exc
        try:
            from renzhi.triage.registry import active_classifier
        except ImportError as exc:
            raise CommandError(NO_MODEL) from exc
        model = active_classifier(head=head)
        if model is None:
            raise CommandError(NO_MODEL)
        return model

    def _train_on_holdout(
        self, texts: list[str], labels: list[str], fraction: float, seed: int
    ) -> tuple[TextClassifier, list[str], list[str]]:
        if not 0 < fraction < 1:
            raise CommandError("--holdout must be between 0 and 1, e.g. 0.2.")
        train, test = holdout_split(labels, fraction, seed)
        if not test:
            raise CommandError("Too few rows to hold any out; add rows or raise --holdout.")
        started = time.perf_counter()
        try:
            model = TextClassifier().fit([texts[i] for i in train], [labels[i] for i in train])
        except ValueError as exc:
            raise CommandError(f"Cannot train on the file: {exc}") from exc
        self.stdout.write(
            f"Trained on {len(train)} rows in {time.perf_counter() - started:.1f} s; "
            f"scoring {len(test)} held-out rows."
        )
        return model, [texts[i] for i in test], [labels[i] for i in test]

    def _describe(self, model: TextClassifier) -> None:
        meta = model.metadata
        self.stdout.write(
            f"Model trained {meta.get('trained_at', '?')} on {meta.get('n_rows', '?')} rows, "
            f"{len(model.classes)} classes."
        )
