"""Cells for every spreadsheet the platform writes (Excel exports, CSV), safe from formula
injection.

A resident's text, an item name or a depot note that starts with `=`, `+`, `-` or `@` (or a tab
or carriage return, which some spreadsheet programs skip before reading a formula) would run as
a formula when a staff member opens the export: `=HYPERLINK(...)` to leak the sheet, `=cmd|...`
(DDE) to start a program. Every export therefore writes text through this module:

- in an .xlsx such text is stored as a string cell with Excel's "quote prefix" style (what Excel
  itself does when someone types `'=1`): the value stays exactly what was written, shown as text
  and never evaluated, also after editing the cell;
- in a CSV (which has no types) it is prefixed with an apostrophe, the OWASP recommendation.

Numbers, dates and booleans are not text and pass through unchanged.
"""

from __future__ import annotations

from typing import Any

from openpyxl.cell import WriteOnlyCell

# What a spreadsheet may read as the start of a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def is_formula_like(value: Any) -> bool:
    """True for text a spreadsheet program could evaluate as a formula."""
    return isinstance(value, str) and value.startswith(FORMULA_STARTS)


def xlsx_value(sheet, value: Any) -> Any:
    """What to append to an openpyxl sheet (write-only or not) for `value`: a text cell that
    cannot become a formula when the text looks like one, `""` for None, otherwise `value`."""
    if value is None:
        return ""
    if not is_formula_like(value):
        return value
    cell = WriteOnlyCell(sheet, value=value)
    cell.data_type = "s"  # openpyxl would otherwise store "=..." as a formula
    cell.quotePrefix = True
    return cell


def xlsx_row(sheet, values: list[Any]) -> list[Any]:
    """A whole row for `sheet.append`, every value through `xlsx_value`."""
    return [xlsx_value(sheet, v) for v in values]


def csv_value(value: Any) -> Any:
    """A value for a CSV writer: formula-like text behind an apostrophe, None as ``."""
    if value is None:
        return ""
    if is_formula_like(value):
        return "'" + value
    return value
