"""`manage.py triage_evaluate` on .csv and .xlsx files, and the scoring behind it."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import openpyxl
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from renzhi.triage.evaluation import holdout_split, score
from renzhi.triage.model import TextClassifier
from renzhi.triage.tests.test_model import make_corpus


@pytest.fixture(scope="module")
def model_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    texts, labels = make_corpus(300, seed=11, words_slice=slice(0, 8))
    path = tmp_path_factory.mktemp("model") / "category.model"
    TextClassifier().fit(texts, labels).save(path)
    return path


@pytest.fixture(scope="module")
def rows() -> list[tuple[str, str]]:
    texts, labels = make_corpus(60, seed=12, words_slice=slice(0, 8))
    return list(zip(texts, labels, strict=True))


def write_csv(path: Path, header: list[str], rows: list[tuple[str, ...]], encoding: str) -> Path:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    path.write_bytes(buffer.getvalue().encode(encoding))
    return path


def write_xlsx(path: Path, header: list[str], rows: list[tuple[str, ...]]) -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append([])  # a blank first row: the header is the first non-empty one
    sheet.append(header)
    for row in rows:
        sheet.append(list(row))
    book.save(path)
    return path


def run(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("triage_evaluate", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.fixture
def no_active_model(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        "renzhi.triage.registry.active_classifier", lambda head="category": None, raising=False
    )


# --- happy paths -------------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk"])
def test_it_scores_a_csv_file(model_file: Path, rows, tmp_path: Path, encoding: str) -> None:
    path = write_csv(
        tmp_path / "cases.csv",
        ["编号", "诉求内容", "分类"],
        [(str(i), t, lab) for i, (t, lab) in enumerate(rows)],
        encoding,
    )
    out, err = run(
        "--file",
        str(path),
        "--text-column",
        "诉求内容",
        "--label-column",
        "分类",
        "--model",
        str(model_file),
    )
    assert "Read 60 labelled rows" in out
    assert "Accuracy:" in out and "Macro-F1:" in out
    accuracy = float(out.split("Accuracy:")[1].split()[0])
    assert accuracy >= 0.9
    for label in ("供水", "噪音", "物业", "劳动", "交通"):
        assert f"\n{label}" in out
    assert "precision  recall      f1  support" in out
    assert err == ""


def test_it_scores_an_excel_file_and_skips_rows_without_label(
    model_file: Path, rows, tmp_path: Path
) -> None:
    path = write_xlsx(tmp_path / "cases.xlsx", ["text", "label"], [*rows, ("没有分类的一行", "")])
    out, _ = run(
        "--file",
        str(path),
        "--text-column",
        "TEXT",
        "--label-column",
        " label ",
        "--model",
        str(model_file),
    )
    assert "Read 60 labelled rows" in out
    assert "Skipped 1 rows without a label" in out
    assert "Macro-F1:" in out


def test_without_model_it_uses_the_active_one(
    model_file: Path, rows, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    heads = []

    def active(head: str = "category") -> TextClassifier:
        heads.append(head)
        return TextClassifier.load(model_file)

    monkeypatch.setattr("renzhi.triage.registry.active_classifier", active, raising=False)
    path = write_csv(tmp_path / "c.csv", ["t", "l"], rows, "utf-8")
    out, _ = run("--file", str(path), "--text-column", "t", "--label-column", "l")
    assert heads == ["category"]
    assert "Model trained" in out and "Accuracy:" in out


def test_it_warns_when_the_file_labels_are_not_the_models(model_file: Path, tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "c.csv", ["t", "l"], [("停水了", "0101"), ("太吵", "0203")], "utf-8"
    )
    out, err = run(
        "--file", str(path), "--text-column", "t", "--label-column", "l", "--model", str(model_file)
    )
    assert "not classes of the model" in err and "0101" in err
    assert "Accuracy:       0.0000" in out


def test_holdout_trains_on_the_file_itself(tmp_path: Path) -> None:
    texts, labels = make_corpus(200, seed=13, words_slice=slice(0, 8))
    path = write_csv(tmp_path / "c.csv", ["t", "l"], list(zip(texts, labels, strict=True)), "utf-8")
    out, _ = run(
        "--file", str(path), "--text-column", "t", "--label-column", "l", "--holdout", "0.25"
    )
    assert "Trained on 150 rows" in out and "scoring 50 held-out rows" in out
    assert float(out.split("Macro-F1:")[1].split()[0]) >= 0.9


# --- bad input ----------------------------------------------------------------------------------


def test_it_refuses_a_missing_file(model_file: Path, tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="File not found"):
        run(
            "--file",
            str(tmp_path / "nope.csv"),
            "--text-column",
            "t",
            "--label-column",
            "l",
            "--model",
            str(model_file),
        )


def test_it_refuses_an_unknown_file_type(model_file: Path, tmp_path: Path) -> None:
    path = tmp_path / "cases.json"
    path.write_text("[]")
    with pytest.raises(CommandError, match=r"unknown file type \.json; use \.xlsx or \.csv"):
        run(
            "--file",
            str(path),
            "--text-column",
            "t",
            "--label-column",
            "l",
            "--model",
            str(model_file),
        )


def test_it_names_a_missing_column_and_lists_those_present(
    model_file: Path, rows, tmp_path: Path
) -> None:
    path = write_xlsx(tmp_path / "cases.xlsx", ["诉求内容", "分类"], rows)
    with pytest.raises(CommandError) as caught:
        run(
            "--file",
            str(path),
            "--text-column",
            "内容",
            "--label-column",
            "分类",
            "--model",
            str(model_file),
        )
    message = str(caught.value)
    assert "text column '内容' is missing" in message
    assert "'诉求内容', '分类'" in message


@pytest.mark.parametrize("content", [b"", b"\xef\xbb\xbf", b"\n\n"])
def test_it_refuses_an_empty_file(model_file: Path, tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "empty.csv"
    path.write_bytes(content)
    with pytest.raises(CommandError, match="is empty"):
        run(
            "--file",
            str(path),
            "--text-column",
            "t",
            "--label-column",
            "l",
            "--model",
            str(model_file),
        )


def test_it_refuses_a_file_with_only_a_header(model_file: Path, tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "header.xlsx", ["t", "l"], [])
    with pytest.raises(CommandError, match="no data rows"):
        run(
            "--file",
            str(path),
            "--text-column",
            "t",
            "--label-column",
            "l",
            "--model",
            str(model_file),
        )


def test_it_refuses_a_broken_excel_file(model_file: Path, tmp_path: Path) -> None:
    path = tmp_path / "broken.xlsx"
    path.write_bytes(b"this is not a zip")
    with pytest.raises(CommandError, match="not a readable Excel file"):
        run(
            "--file",
            str(path),
            "--text-column",
            "t",
            "--label-column",
            "l",
            "--model",
            str(model_file),
        )


def test_without_a_trained_model_it_says_how_to_get_one(
    rows, tmp_path: Path, no_active_model: None
) -> None:
    path = write_csv(tmp_path / "c.csv", ["t", "l"], rows, "utf-8")
    with pytest.raises(CommandError, match=r"No trained model; run manage\.py triage_train"):
        run("--file", str(path), "--text-column", "t", "--label-column", "l")


def test_it_refuses_a_model_file_that_is_not_ours(rows, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "c.csv", ["t", "l"], rows, "utf-8")
    bogus = tmp_path / "bogus.model"
    bogus.write_bytes(b"\x80\x04pickle")
    with pytest.raises(CommandError, match="not a Renzhi text classifier"):
        run("--file", str(path), "--text-column", "t", "--label-column", "l", "--model", str(bogus))
    with pytest.raises(CommandError, match="Model file not found"):
        run(
            "--file",
            str(path),
            "--text-column",
            "t",
            "--label-column",
            "l",
            "--model",
            str(tmp_path / "missing.model"),
        )


def test_holdout_refuses_a_silly_fraction(rows, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "c.csv", ["t", "l"], rows, "utf-8")
    with pytest.raises(CommandError, match="between 0 and 1"):
        run("--file", str(path), "--text-column", "t", "--label-column", "l", "--holdout", "1.5")


# --- scoring ------------------------------------------------------------------------------------


def test_score_computes_per_class_precision_recall_and_macro_f1() -> None:
    truth = ["a", "a", "a", "b", "b", "c"]
    predicted = ["a", "a", "b", "b", "b", "a"]
    report = score(truth, predicted)
    assert report.n == 6
    assert report.accuracy == pytest.approx(4 / 6)
    rows = {row.label: row for row in report.rows}
    assert rows["a"].precision == pytest.approx(2 / 3) and rows["a"].recall == pytest.approx(2 / 3)
    assert rows["b"].precision == pytest.approx(2 / 3) and rows["b"].recall == 1.0
    assert rows["c"].f1 == 0.0 and rows["c"].support == 1
    assert report.macro_f1 == pytest.approx((2 / 3 + 0.8 + 0.0) / 3)
    assert report.confusion["c"] == {"a": 1}


def test_holdout_split_keeps_every_label_in_training() -> None:
    labels = ["a"] * 10 + ["b"] * 4 + ["c"]
    train, test = holdout_split(labels, 0.5, seed=1)
    assert sorted(train + test) == list(range(15))
    assert {labels[i] for i in train} == {"a", "b", "c"}
    assert sum(labels[i] == "a" for i in test) == 5
