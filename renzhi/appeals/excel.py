"""Excel and CSV files of appeals: the import template, reading an uploaded table, exports.

The import columns are a data contract with other systems and with people filling the template
by hand, so their headers are fixed Chinese names (英文键名 also accepted as headers for
systems); errors name the Chinese header. Everything a person reads besides the headers (notes,
export headers, labels) is translated.

Reading is defensive: the type is judged by the bytes, not the name; CSV may be UTF-8 (with or
without BOM), UTF-16 with BOM, or GBK/GB18030 (what Excel on a Chinese Windows writes); an
.xlsx is refused before parsing when it would unpack to something huge. Exports use openpyxl's
write-only mode, which streams rows to a temporary file instead of building the sheet in memory,
and write text through core.spreadsheets (no formula injection).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import tempfile
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl import Workbook, load_workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.utils.exceptions import InvalidFileException

from renzhi.core import spreadsheets
from renzhi.core.errors import ActionError, ErrorCode
from renzhi.core.workdays import LOCAL_TZ

MAX_IMPORT_BYTES = 20 * 1024 * 1024
MAX_UNPACKED_BYTES = 400 * 1024 * 1024
MAX_IMPORT_ROWS = 50_000
MAX_COLUMNS = 60
XLSX_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # the old binary .xls
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass(frozen=True)
class ImportColumn:
    key: str
    header: str
    note: Any  # lazily translated help text for the template's instructions sheet
    width: int = 14
    text: bool = False  # keep as text in the template (codes with leading zeros, phones)


IMPORT_COLUMNS: list[ImportColumn] = [
    ImportColumn(
        "description",
        "诉求描述",
        gettext_lazy("Required. What the resident reported, up to 4000 characters."),
        50,
    ),
    ImportColumn(
        "category_code",
        "分类编码",
        gettext_lazy("Optional. A category code from the “categories” sheet, e.g. 0801."),
        10,
        True,
    ),
    ImportColumn(
        "lat",
        "纬度",
        gettext_lazy("Latitude in degrees (WGS84), together with longitude, e.g. 39.9219."),
        12,
    ),
    ImportColumn(
        "lng",
        "经度",
        gettext_lazy("Longitude in degrees (WGS84), together with latitude, e.g. 116.4431."),
        12,
    ),
    ImportColumn(
        "address", "地址", gettext_lazy("Optional. Address text, up to 200 characters."), 30
    ),
    ImportColumn(
        "place_code",
        "社区编码",
        gettext_lazy(
            "A community or grid code from the “communities” sheet. Required when there are no "
            "coordinates; with coordinates, the point must lie inside it."
        ),
        18,
        True,
    ),
    ImportColumn("contact_name", "联系人", gettext_lazy("Optional. Up to 50 characters."), 10),
    ImportColumn(
        "contact_phone",
        "联系电话",
        gettext_lazy("Optional. 7 to 12 digits; spaces and hyphens are ignored."),
        16,
        True,
    ),
    ImportColumn(
        "external_ref",
        "渠道来源编号",
        gettext_lazy(
            "Optional. The number in the source system; unique, so a file cannot be imported twice."
        ),
        18,
        True,
    ),
    ImportColumn(
        "received_at",
        "受理时间",
        gettext_lazy(
            "Optional. When it was received, Beijing time, e.g. 2025-03-01 09:30. Empty: now."
        ),
        18,
    ),
]
HEADERS = {c.key: c.header for c in IMPORT_COLUMNS}
_HEADER_KEYS = {c.header: c.key for c in IMPORT_COLUMNS} | {c.key: c.key for c in IMPORT_COLUMNS}


@dataclass
class Table:
    """An uploaded table: the column key of each position, and its non-empty data rows as
    (spreadsheet row number counting the header as 1, {key: raw value})."""

    file_format: str
    encoding: str
    columns: list[str | None]
    rows: list[tuple[int, dict[str, Any]]] = field(default_factory=list)


def file_error(message: str) -> ActionError:
    return ActionError(message, field="file", code=ErrorCode.INVALID)


# --- Reading --------------------------------------------------------------------------------


def detect_format(filename: str, content: bytes) -> str:
    """ "xlsx" or "csv" from the bytes (and the name for CSV, which has no signature)."""
    name = (filename or "").lower()
    if not content:
        raise file_error(_("The file is empty."))
    if len(content) > MAX_IMPORT_BYTES:
        raise file_error(_("The file is larger than %(n)d MB.") % {"n": MAX_IMPORT_BYTES // 2**20})
    if content.startswith(OLE_MAGIC) or name.endswith(".xls"):
        raise file_error(_("Old .xls workbooks cannot be read; save the file as .xlsx or .csv."))
    if content.startswith(XLSX_MAGIC):
        if not name.endswith((".xlsx", ".xlsm")):
            raise file_error(_("Only .xlsx and .csv files can be imported."))
        return "xlsx"
    if name.endswith(".xlsx"):
        raise file_error(_("This is not a valid .xlsx file."))
    if name.endswith(".csv"):
        return "csv"
    raise file_error(_("Only .xlsx and .csv files can be imported."))


def read_table(filename: str, content: bytes) -> Table:
    """Parse an upload into a Table, or raise an ActionError on the `file` field."""
    file_format = detect_format(filename, content)
    if file_format == "xlsx":
        raw_rows, encoding = _xlsx_rows(content), ""
    else:
        text, encoding = decode_csv(content)
        raw_rows = _csv_rows(text)
    table = Table(file_format=file_format, encoding=encoding, columns=[])
    header_seen = False
    for number, values in raw_rows:
        if not header_seen:
            if all(_blank(v) for v in values):
                raise file_error(_("The first row must be the header row of the template."))
            table.columns = _header_keys(values)
            header_seen = True
            continue
        if all(_blank(v) for v in values):
            continue
        if len(table.rows) >= MAX_IMPORT_ROWS:
            raise file_error(
                _("At most %(n)d rows per file; split the file.") % {"n": MAX_IMPORT_ROWS}
            )
        row = {
            key: values[i]
            for i, key in enumerate(table.columns)
            if key is not None and i < len(values)
        }
        table.rows.append((number, row))
    if not header_seen:
        raise file_error(_("The file is empty."))
    if not table.rows:
        raise file_error(_("The file has a header but no rows."))
    return table


def decode_csv(content: bytes) -> tuple[str, str]:
    """Text and the encoding it was read with: UTF-8 (BOM optional), UTF-16 (BOM), else GBK."""
    if content.startswith(b"\xef\xbb\xbf"):
        candidates = ["utf-8-sig"]
    elif content.startswith((b"\xff\xfe", b"\xfe\xff")):
        candidates = ["utf-16"]
    else:
        candidates = ["utf-8", "gb18030"]  # GB18030 is the superset of GBK and GB2312
    for encoding in candidates:
        try:
            text = content.decode(encoding)
        except UnicodeDecodeError:
            continue
        if "\x00" in text:
            break
        return text, "gbk" if encoding == "gb18030" else encoding.removesuffix("-sig")
    raise file_error(_("Cannot read the text of this CSV file; save it as UTF-8 or GBK."))


def _csv_rows(text: str) -> Iterator[tuple[int, list[Any]]]:
    sample = text[:4096]
    try:
        dialect: Any = csv.Sniffer().sniff(sample, delimiters=",\t;")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text, newline=""), dialect)
    try:
        for number, values in enumerate(reader, start=1):
            yield number, values[:MAX_COLUMNS]
    except csv.Error as exc:
        raise file_error(
            _("The CSV file is malformed near row %(row)d: %(error)s")
            % {"row": reader.line_num, "error": exc}
        ) from exc


def _xlsx_rows(content: bytes) -> Iterator[tuple[int, list[Any]]]:
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except zipfile.BadZipFile as exc:
        raise file_error(_("This is not a valid .xlsx file.")) from exc
    if unpacked > MAX_UNPACKED_BYTES:
        raise file_error(_("The workbook is too large once unpacked; split the file."))
    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise file_error(_("This is not a valid .xlsx file.")) from exc
    try:
        sheet = workbook.worksheets[0]
        for number, values in enumerate(
            sheet.iter_rows(values_only=True, max_col=MAX_COLUMNS), start=1
        ):
            yield number, list(values)
    except (KeyError, ValueError, TypeError, zipfile.BadZipFile) as exc:
        raise file_error(_("This is not a valid .xlsx file.")) from exc
    finally:
        workbook.close()


def _header_keys(values: list[Any]) -> list[str | None]:
    keys: list[str | None] = []
    seen: set[str] = set()
    for value in values:
        name = cell_text(value).replace("*", "").strip()
        key = _HEADER_KEYS.get(name) or _HEADER_KEYS.get(name.lower())
        if key in seen:
            raise file_error(_("The column “%(column)s” appears twice.") % {"column": HEADERS[key]})
        if key:
            seen.add(key)
        keys.append(key)
    if "description" not in seen:
        raise file_error(
            _("The column “%(column)s” is missing; use the template.")
            % {"column": HEADERS["description"]}
        )
    if not ({"lat", "lng"} <= seen or "place_code" in seen):
        raise file_error(
            _("The file needs the columns “%(lat)s” and “%(lng)s”, or “%(place)s”.")
            % {"lat": HEADERS["lat"], "lng": HEADERS["lng"], "place": HEADERS["place_code"]}
        )
    return keys


def cell_text(value: Any) -> str:
    """A cell as trimmed text; whole numbers lose the “.0” Excel gives them."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e16:
        return str(int(value))
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat(sep=" ") if isinstance(value, dt.datetime) else value.isoformat()
    return str(value).strip()


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


# --- The template ---------------------------------------------------------------------------


def build_template(
    categories: Iterable[tuple[str, str]], places: Iterable[tuple[str, str]]
) -> bytes:
    """The import template: the header row (no example row: it would be imported), the
    instructions, and the codes the importer may use (categories; communities and grids of
    their jurisdiction)."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "诉求"
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="DDEBF7")
    sheet.append([c.header for c in IMPORT_COLUMNS])
    for index, column in enumerate(IMPORT_COLUMNS, start=1):
        cell = sheet.cell(row=1, column=index)
        cell.font, cell.fill = bold, fill
        letter = cell.column_letter
        sheet.column_dimensions[letter].width = column.width
        if column.text:  # text cells keep the leading zero of 0801 and whole phone numbers
            sheet.column_dimensions[letter].number_format = "@"
    sheet.freeze_panes = "A2"

    notes = workbook.create_sheet("说明")
    notes.append([_("Column"), _("How to fill it in")])
    for column in IMPORT_COLUMNS:
        notes.append([column.header, str(column.note)])
    notes.append([])
    notes.append(
        [
            _(
                "Each row is one appeal. Every row is checked before anything is saved; if "
                "any row has a problem, nothing is imported and each problem is listed with "
                "its row and column."
            )
        ]
    )
    notes.column_dimensions["A"].width = 16
    notes.column_dimensions["B"].width = 90
    for cell in notes[1]:
        cell.font = bold

    _code_sheet(workbook, "分类", [_("Code"), _("Category")], categories)
    _code_sheet(workbook, "社区", [_("Code"), _("Community or grid")], places)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _code_sheet(
    workbook: Workbook, title: str, header: list[str], rows: Iterable[tuple[str, str]]
) -> None:
    sheet = workbook.create_sheet(title)
    sheet.append(header)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for code, name in rows:
        sheet.append(spreadsheets.xlsx_row(sheet, [code, name]))
        sheet.cell(row=sheet.max_row, column=1).number_format = "@"
    sheet.column_dimensions["A"].width = 18
    sheet.column_dimensions["B"].width = 40


# --- Exports --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExportColumn:
    header: Any  # lazily translated
    value: Callable[[dict], Any]
    width: int = 14


def write_xlsx(columns: list[ExportColumn], rows: Iterable[dict], *, title: str) -> IO[bytes]:
    """Stream rows into a write-only workbook in a temporary file; returns it rewound.

    Datetimes are written in Asia/Shanghai (Excel has no time zones) as “yyyy-mm-dd hh:mm”.
    """
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=title[:31])
    for index, column in enumerate(columns, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = column.width
    sheet.freeze_panes = "A2"
    sheet.append([str(c.header) for c in columns])
    for row in rows:
        sheet.append([_excel_value(sheet, c.value(row)) for c in columns])
    out = tempfile.TemporaryFile(suffix=".xlsx")  # noqa: SIM115 (the caller streams and closes it)
    workbook.save(out)
    out.seek(0)
    return out


def _excel_value(sheet, value: Any) -> Any:
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(LOCAL_TZ).replace(tzinfo=None)
        cell = WriteOnlyCell(sheet, value=value.replace(microsecond=0))
        cell.number_format = "yyyy-mm-dd hh:mm"
        return cell
    return spreadsheets.xlsx_value(sheet, value)  # a resident's text never becomes a formula
