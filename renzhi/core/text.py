"""Text input checks shared by every app: one normaliser for the API, the forms and the imports.

Text typed by a person or sent by a system reaches the database only after `clean_text`:
NFC normalisation, with letters and digits folded by NFKC to plain ASCII where that is what they
are (full-width ＡＢＣ１２３ becomes ABC123; Chinese full-width punctuation is left alone, as
whole-text NFKC would turn "，" into ","), invisible format characters (Unicode category
Cf: zero-width spaces, bidi overrides, the BOM, soft hyphens) are removed, control characters
are refused (a NUL makes PostgreSQL fail and hides text from readers; only line feed and tab are
kept, and only in multi-line fields), and the length is checked against the column *after*
normalisation. A title made only of invisible characters is empty once cleaned, so a required
field refuses it.

The zero-width joiner and non-joiner are kept between two visible characters, where emoji
sequences and some scripts need them; anywhere else they are removed like the rest of Cf.

Three ways in, one rule:
- `clean_text(value, field=…, max_length=…)` for actions and imports (raises a field-named
  `ValidationError`);
- `Annotated[str, Text(200)]` (or `ModelText(Model, "field")`) in ninja schemas: the column
  length shows in the OpenAPI schema as `maxLength`, and a refusal is a 400 naming the field;
- `CheckedForm` (or `TextFormMixin`) for Django forms: every CharField is cleaned the same way,
  with its own max_length, or `TEXT_CAP` for unbounded fields; password fields are left alone;
- `posted_text(request.POST, name, max_length=…)` for the few page views that read a reason or
  a note straight from the POST (an `ActionError` on the field).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Annotated, Any

from django import forms
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext as _
from pydantic import GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic_core import PydanticCustomError, core_schema

from renzhi.core.errors import ActionError, ErrorCode

# Cap for free text stored in TextFields (notes, descriptions): long enough for any real note.
TEXT_CAP = 10_000

# Cf characters kept between two visible characters (emoji sequences, Persian, Indic scripts).
_JOINERS = frozenset("\u200c\u200d")
# Letters and digits whose compatibility form (NFKC) is a plain ASCII letter or digit are folded
# to it: full-width ＡＢＣ１２３, mathematical 𝐀. Nothing else is: NFKC on the whole text would
# turn Chinese punctuation （，：！） into ASCII and ① into 1, rewriting ordinary prose.
_FOLDED = frozenset(("Lu", "Ll", "Lt", "Nd"))
# Line and paragraph separators become a line feed in multi-line text, a space elsewhere.
_LINE_BREAKS = frozenset("\u2028\u2029\x85")


def clean_text(
    value: str,
    *,
    field: str,
    max_length: int | None,
    multiline: bool = False,
    required: bool = False,
) -> str:
    """The cleaned text, or a `ValidationError` keyed by `field` that says what is wrong.

    `max_length=None` means a TextField: the cap is `TEXT_CAP`.
    """
    try:
        return check_text(value, max_length=max_length, multiline=multiline, required=required)
    except ValidationError as exc:
        raise ValidationError({field: exc.error_list}) from None


def check_text(
    value: str, *, max_length: int | None, multiline: bool = False, required: bool = False
) -> str:
    """`clean_text` without the field name (forms and schemas name the field themselves)."""
    if not isinstance(value, str):
        raise ValidationError(_("Please enter text."), code="invalid")
    text = normalise(value, multiline=multiline)
    if not text:
        if required:
            raise ValidationError(_("This field is required."), code="required")
        return text
    bad = _first_control(text, multiline=multiline)
    if bad is not None:
        raise ValidationError(
            _("This text contains a control character (U+%(code)04X) that is not allowed here."),
            code="control_character",
            params={"code": ord(bad)},
        )
    limit = TEXT_CAP if max_length is None else max_length
    if len(text) > limit:
        raise ValidationError(
            _("This text is too long: %(length)d characters, at most %(limit)d."),
            code="max_length",
            params={"length": len(text), "limit": limit},
        )
    return text


def posted_text(
    data: Any,
    name: str,
    *,
    max_length: int | None,
    multiline: bool = False,
    required: bool = False,
) -> str:
    """A text value a page view reads from `request.POST` outside a form (a reason, a note, a
    code to look up), cleaned like every form field. A refusal is an `ActionError` on `name`, so
    the view shows it the way it shows the action's own refusals, and nothing is changed.

    Codes and usernames go through it too: a NUL in a lookup makes PostgreSQL fail.
    """
    value = data.get(name, "")
    try:
        return check_text(value, max_length=max_length, multiline=multiline, required=required)
    except ValidationError as exc:
        raise ActionError(exc.messages[0], field=name, code=ErrorCode.INVALID) from None


def normalise(value: str, *, multiline: bool = False) -> str:
    """NFC with letters and digits NFKC-folded, no invisible format characters, ends stripped.

    Use it to compare names (duplicate checks): two strings a reader cannot tell apart compare
    equal. Control characters are left in place (`check_text` refuses them).
    """
    text = unicodedata.normalize("NFC", value).replace("\r\n", "\n").replace("\r", "\n")
    out: list[str] = []
    for i, ch in enumerate(text):
        if ch > "\x7f" and unicodedata.category(ch) in _FOLDED:
            folded = unicodedata.normalize("NFKC", ch)
            out.append(folded if folded.isascii() and folded.isalnum() else ch)
        elif ch in _LINE_BREAKS:
            out.append("\n" if multiline else " ")
        elif unicodedata.category(ch) == "Cf":
            if ch in _JOINERS and _visible(text, i - 1) and _visible(text, i + 1):
                out.append(ch)
        else:
            out.append(ch)
    return "".join(out).strip()


@dataclass(frozen=True)
class Text:
    """Pydantic metadata: `name: Annotated[str, Text(100)]` cleans and bounds a schema field."""

    max_length: int | None
    multiline: bool = False
    required: bool = False

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.no_info_after_validator_function(self.validate, handler(source))

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> dict[str, Any]:
        json_schema = handler(schema)
        json_schema["maxLength"] = self.limit
        return json_schema

    @property
    def limit(self) -> int:
        return TEXT_CAP if self.max_length is None else self.max_length

    def validate(self, value: str) -> str:
        try:
            return check_text(
                value, max_length=self.max_length, multiline=self.multiline, required=self.required
            )
        except ValidationError as exc:
            message = " ".join(exc.messages)
            raise PydanticCustomError(TEXT_ERROR, "{message}", {"message": message}) from None


# The pydantic error type of a refused text; the API's error handler shows its message.
TEXT_ERROR = "text_refused"


def ModelText(model: type[models.Model], name: str, *, required: bool = False) -> Text:
    """`Text` bounded by a model column: a CharField's max_length, TEXT_CAP for a TextField."""
    column = model._meta.get_field(name)
    multiline = isinstance(column, models.TextField)
    return Text(getattr(column, "max_length", None), multiline=multiline, required=required)


# A long free-text note (TextField): multi-line, capped at TEXT_CAP.
NOTE = Text(None, multiline=True)

# A query-string filter or search term (codes, states, words): a NUL here fails PostgreSQL too.
QueryText = Annotated[str, Text(200)]


class TextFormMixin:
    """Cleans every CharField of a form with `check_text` (its max_length, or TEXT_CAP).

    A Textarea field is multi-line; a password field is left exactly as typed.
    """

    fields: dict[str, forms.Field]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[call-arg]
        for field in self.fields.values():
            if isinstance(field, forms.CharField) and not isinstance(
                field.widget, forms.PasswordInput
            ):
                _guard(field)


class CheckedForm(TextFormMixin, forms.Form):
    """The base of the project's forms."""


def _guard(field: forms.CharField) -> None:
    plain = field.to_python
    multiline = isinstance(field.widget, forms.Textarea)

    def to_python(value: Any) -> Any:
        value = plain(value)
        if not isinstance(value, str) or value in field.empty_values:
            return value
        return check_text(value, max_length=field.max_length, multiline=multiline)

    field.to_python = to_python  # type: ignore[method-assign]


def _visible(text: str, i: int) -> bool:
    if i < 0 or i >= len(text):
        return False
    return unicodedata.category(text[i])[0] not in ("C", "Z")


def _first_control(text: str, *, multiline: bool) -> str | None:
    allowed = "\n\t" if multiline else ""
    for ch in text:
        category = unicodedata.category(ch)
        if category in ("Cc", "Cs") and ch not in allowed:
            return ch
    return None
