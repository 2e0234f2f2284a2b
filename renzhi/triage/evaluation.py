"""Scoring a classifier on a labelled spreadsheet: reading the file, the metrics, the table.

Used by `manage.py triage_evaluate` and `bench/classifier.py`. No database: an operator can
point it at any .xlsx or .csv with a text column and a label column (their own handled cases,
a public data set) and see how the model would do.
"""

from __future__ import annotations

import csv
import io
import random
import zipfile
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np

EXCEL_SUFFIXES = (".xlsx", ".xlsm")
CSV_SUFFIXES = (".csv", ".tsv", ".txt")


class InputFileError(ValueError):
    """The labelled file cannot be used; the message says why, in words for an operator."""


class Predictor(Protocol):
    def predict(self, texts: Sequence[str]) -> list[str]: ...


@dataclass
class ClassRow:
    label: str
    precision: float
    recall: float
    f1: float
    support: int


@dataclass
class Report:
    n: int
    accuracy: float
    macro_f1: float
    weighted_f1: float
    rows: list[ClassRow] = field(default_factory=list)
    confusion: dict[str, dict[str, int]] = field(default_factory=dict)  # true -> predicted -> n


# --- reading -------------------------------------------------------------------------------------


def read_labelled(
    path: str | Path, text_column: str, label_column: str
) -> tuple[list[str], list[str], int]:
    """(texts, labels, rows skipped for an empty label) of an .xlsx or .csv file.

    The first non-empty row is the header. Column names match exactly after trimming spaces,
    else ignoring case.
    """
    path = Path(path)
    if not path.exists():
        raise InputFileError(f"File not found: {path}")
    if not path.is_file():
        raise InputFileError(f"Not a file: {path}")
    suffix = path.suffix.lower()
    if suffix in EXCEL_SUFFIXES:
        rows = _excel_rows(path)
    elif suffix in CSV_SUFFIXES:
        rows = _csv_rows(path)
    elif suffix == ".xls":
        raise InputFileError(f"{path.name}: old .xls files are not read; save it as .xlsx.")
    else:
        raise InputFileError(
            f"{path.name}: unknown file type {suffix or '(none)'}; use .xlsx or .csv."
        )
    header = next(rows, None)
    if header is None:
        raise InputFileError(f"{path.name} is empty.")
    text_i = _column(header, text_column, "text", path.name)
    label_i = _column(header, label_column, "label", path.name)
    texts: list[str] = []
    labels: list[str] = []
    skipped = 0
    for row in rows:
        label = row[label_i].strip() if label_i < len(row) else ""
        text = row[text_i] if text_i < len(row) else ""
        if not label:
            skipped += 1
            continue
        texts.append(text)
        labels.append(label)
    if not texts:
        raise InputFileError(
            f"{path.name} has no data rows with a label in column {label_column!r}."
        )
    return texts, labels, skipped


def _column(header: list[str], wanted: str, role: str, name: str) -> int:
    cleaned = [h.strip() for h in header]
    if wanted.strip() in cleaned:
        return cleaned.index(wanted.strip())
    folded = [h.casefold() for h in cleaned]
    if wanted.strip().casefold() in folded:
        return folded.index(wanted.strip().casefold())
    present = ", ".join(repr(h) for h in cleaned if h) or "(none)"
    raise InputFileError(
        f"{name}: the {role} column {wanted!r} is missing. Columns present: {present}."
    )


def _excel_rows(path: Path) -> Iterator[list[str]]:
    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, OSError, KeyError, ValueError) as exc:
        raise InputFileError(f"{path.name} is not a readable Excel file ({exc}).") from exc
    sheet = book.active
    if sheet is None:
        book.close()
        raise InputFileError(f"{path.name} has no worksheet.")

    def rows() -> Iterator[list[str]]:
        try:
            seen_header = False
            for values in sheet.iter_rows(values_only=True):
                row = ["" if v is None else _cell(v) for v in values]
                if not seen_header and not any(c.strip() for c in row):
                    continue
                seen_header = True
                yield row
        finally:
            book.close()

    return rows()


def _cell(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _csv_rows(path: Path) -> Iterator[list[str]]:
    raw = path.read_bytes()
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            content = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:  # pragma: no cover - gb18030 decodes nearly anything
        raise InputFileError(f"{path.name}: cannot decode the text (tried UTF-8 and GBK).")
    sample = content[:8192]
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(sample, delimiters=",\t;")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(content, newline=""), dialect)
    return (row for row in reader if row and any(c.strip() for c in row))


# --- scoring -------------------------------------------------------------------------------------


def evaluate(model: Predictor, texts: Sequence[str], labels: Sequence[str]) -> Report:
    """Accuracy, macro-F1 and a per-class table of `model` on `texts` with true `labels`."""
    predicted = model.predict(list(texts))
    return score(list(labels), predicted)


def score(truth: Sequence[str], predicted: Sequence[str]) -> Report:
    """The report of `predicted` against `truth`; macro-F1 over the labels in either."""
    from sklearn.metrics import f1_score, precision_recall_fscore_support

    labels = sorted(set(truth) | set(predicted))
    precision, recall, f1, support = precision_recall_fscore_support(
        truth, predicted, labels=labels, zero_division=0
    )
    confusion: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for t, p in zip(truth, predicted, strict=True):
        confusion[t][p] += 1
    return Report(
        n=len(truth),
        accuracy=float(np.mean([t == p for t, p in zip(truth, predicted, strict=True)])),
        macro_f1=float(f1_score(truth, predicted, labels=labels, average="macro", zero_division=0)),
        weighted_f1=float(
            f1_score(truth, predicted, labels=labels, average="weighted", zero_division=0)
        ),
        rows=[
            ClassRow(label, float(p), float(r), float(f), int(s))
            for label, p, r, f, s in zip(labels, precision, recall, f1, support, strict=True)
        ],
        confusion={t: dict(row) for t, row in confusion.items()},
    )


def holdout_split(
    labels: Sequence[str], fraction: float, seed: int = 0
) -> tuple[list[int], list[int]]:
    """(train rows, test rows): `fraction` of each label held out, at least one kept to train."""
    by_label: dict[str, list[int]] = defaultdict(list)
    for i, label in enumerate(labels):
        by_label[label].append(i)
    rng = random.Random(seed)
    train: list[int] = []
    test: list[int] = []
    for label in sorted(by_label):
        rows = by_label[label]
        rng.shuffle(rows)
        n_test = min(len(rows) - 1, round(len(rows) * fraction))
        test.extend(rows[:n_test])
        train.extend(rows[n_test:])
    return sorted(train), sorted(test)


def format_report(report: Report, names: dict[str, str] | None = None) -> str:
    """The report as a plain-text table (CJK labels are padded by display width)."""
    names = names or {}
    shown = {row.label: names.get(row.label, row.label) for row in report.rows}
    width = max([_width(s) for s in shown.values()] + [5])
    lines = [
        f"Rows evaluated: {report.n}",
        f"Accuracy:       {report.accuracy:.4f}",
        f"Macro-F1:       {report.macro_f1:.4f}",
        f"Weighted-F1:    {report.weighted_f1:.4f}",
        "",
        f"{_pad('class', width)}  precision  recall      f1  support",
    ]
    for row in report.rows:
        lines.append(
            f"{_pad(shown[row.label], width)}  {row.precision:9.4f}  {row.recall:6.4f}  "
            f"{row.f1:6.4f}  {row.support:7d}"
        )
    return "\n".join(lines)


def _width(text: str) -> int:
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))
