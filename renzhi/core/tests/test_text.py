"""The text normaliser and its three ways in: clean_text, the schema type, the form mixin."""

from __future__ import annotations

from typing import Annotated

import pytest
from django import forms
from django.core.exceptions import ValidationError
from ninja import Schema
from pydantic import ValidationError as SchemaError

from renzhi.core.text import NOTE, TEXT_CAP, CheckedForm, Text, clean_text, normalise


def test_a_title_made_only_of_zero_width_characters_is_refused_as_empty():
    with pytest.raises(ValidationError) as refused:
        clean_text("\u200b\u200c\u200d\ufeff", field="title", max_length=120, required=True)

    assert list(refused.value.message_dict) == ["title"]
    assert refused.value.error_dict["title"][0].code == "required"


def test_a_name_with_a_zero_width_space_equals_the_name_without_it():
    assert normalise("棋牌协会\u200b") == "棋牌协会"
    assert clean_text("棋\u200b牌协会", field="name", max_length=100) == "棋牌协会"


def test_full_width_letters_and_digits_are_normalised():
    assert normalise("ＡＢＣ１２３") == "ABC123"
    assert normalise("𝐀𝐁") == "AB"


def test_chinese_punctuation_and_circled_numbers_are_left_as_written():
    prose = "楼道灯不亮，请尽快维修（3号楼）：①②！　谢谢。m²"
    assert normalise(prose) == prose


def test_bidi_overrides_are_stripped():
    assert normalise("\u202eevil\u202c.exe\u2066") == "evil.exe"


def test_a_zero_width_joiner_inside_an_emoji_sequence_is_kept():
    family = "👨\u200d👩\u200d👧"
    assert normalise(family) == family


def test_it_refuses_a_nul_byte_naming_the_field():
    with pytest.raises(ValidationError) as refused:
        clean_text("a\x00b", field="display_name", max_length=50)

    assert refused.value.error_dict["display_name"][0].code == "control_character"


def test_it_refuses_c1_controls_and_lone_surrogates():
    for bad in ("a\x85b\x9bc", "a\ud800b"):
        with pytest.raises(ValidationError):
            clean_text(bad, field="note", max_length=None, multiline=True)


def test_line_feed_and_tab_are_kept_only_in_multi_line_fields():
    assert clean_text("one\r\ntwo\tthree", field="note", max_length=None, multiline=True) == (
        "one\ntwo\tthree"
    )
    with pytest.raises(ValidationError):
        clean_text("one\ntwo", field="title", max_length=120)


def test_length_is_checked_after_normalisation_against_the_column():
    assert clean_text("x" * 50 + "\u200b", field="name", max_length=50) == "x" * 50
    with pytest.raises(ValidationError) as refused:
        clean_text("x" * 51, field="name", max_length=50)
    assert refused.value.error_dict["name"][0].code == "max_length"


def test_an_unbounded_text_field_is_capped():
    with pytest.raises(ValidationError):
        clean_text("x" * (TEXT_CAP + 1), field="note", max_length=None, multiline=True)


class _Sample(Schema):
    title: Annotated[str, Text(10)]
    note: Annotated[str, NOTE] = ""


def test_the_schema_type_cleans_and_publishes_its_max_length():
    assert _Sample(title="ＡＢ\u200b").title == "AB"
    assert _Sample.model_json_schema()["properties"]["title"]["maxLength"] == 10
    assert _Sample.model_json_schema()["properties"]["note"]["maxLength"] == TEXT_CAP


def test_the_schema_type_refuses_with_the_field_in_the_location():
    with pytest.raises(SchemaError) as refused:
        _Sample(title="x" * 11)

    (error,) = refused.value.errors()
    assert error["loc"] == ("title",) and error["type"] == "text_refused"


class _Form(CheckedForm):
    name = forms.CharField(max_length=10)
    note = forms.CharField(widget=forms.Textarea, required=False)
    password = forms.CharField(widget=forms.PasswordInput, strip=False)


def test_the_form_base_cleans_every_char_field_but_the_password():
    form = _Form(data={"name": "棋牌\u200b协会", "note": "a\r\nb", "password": " Ｐass\u200b "})

    assert form.is_valid(), form.errors
    assert form.cleaned_data["name"] == "棋牌协会"
    assert form.cleaned_data["note"] == "a\nb"
    assert form.cleaned_data["password"] == " Ｐass\u200b "


def test_the_form_base_refuses_a_name_of_invisible_characters_and_control_characters():
    form = _Form(data={"name": "\u200b\u202e", "note": "bell\x07", "password": "x"})

    assert not form.is_valid()
    assert set(form.errors) == {"name", "note"}
