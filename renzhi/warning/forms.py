"""Forms of the warning pages; they only shape input, the actions decide."""

from __future__ import annotations

import datetime as dt
from typing import cast

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from renzhi.core import datebounds
from renzhi.core.models import Place, PlaceLevel
from renzhi.core.text import CheckedForm
from renzhi.warning.actions import WarningInput
from renzhi.warning.models import CapCategory, Level


class WarningForm(CheckedForm):
    level = forms.TypedChoiceField(
        label=pgettext_lazy("warning", "Level"), choices=Level.choices, coerce=int
    )
    headline = forms.CharField(label=_("Headline"), max_length=160)
    event = forms.CharField(label=_("Event"), max_length=100, required=False)
    cap_category = forms.ChoiceField(label=_("CAP category"), choices=CapCategory.choices)
    description = forms.CharField(
        label=_("Description"), widget=forms.Textarea(attrs={"rows": 4}), required=False
    )
    instructions = forms.CharField(
        label=_("Instructions to residents"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
    )
    headline_en = forms.CharField(label=_("Headline (English)"), max_length=160, required=False)
    areas = forms.MultipleChoiceField(
        label=_("Area (communities)"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    expires_at = forms.DateTimeField(
        label=_("Expires"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
    )

    def __init__(self, *args, places: list[Place] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        communities = [p for p in (places or []) if p.level == PlaceLevel.COMMUNITY]
        cast(forms.ChoiceField, self.fields["areas"]).choices = [
            (p.code, p.name) for p in communities
        ]

    def clean_expires_at(self) -> dt.datetime | None:
        """Bounded like the action (issue 23 #4): a year ahead at most."""
        value = self.cleaned_data.get("expires_at")
        error = datebounds.check_moment(
            "expires_at", value, past=datebounds.DEFAULT_SPAN, future=datebounds.YEAR
        )
        if error is not None:
            raise forms.ValidationError(error.message)
        return value

    def to_input(self) -> WarningInput:
        d = self.cleaned_data
        expires: dt.datetime | None = d.get("expires_at")
        return WarningInput(
            level=d["level"],
            headline=d["headline"],
            event=d.get("event", ""),
            cap_category=d["cap_category"],
            description=d.get("description", ""),
            instructions=d.get("instructions", ""),
            headline_en=d.get("headline_en", ""),
            area_codes=list(d.get("areas") or []),
            expires_at=expires,
        )


class ReasonForm(CheckedForm):
    reason = forms.CharField(label=_("Reason"), max_length=300, required=False)


class ImportForm(CheckedForm):
    document = forms.FileField(label=_("CAP file (XML or Atom)"), required=False)
    text = forms.CharField(
        label=_("…or paste the XML"), widget=forms.Textarea(attrs={"rows": 6}), required=False
    )


class SubscriptionForm(CheckedForm):
    place = forms.ChoiceField(label=_("Place"))
    cap_category = forms.ChoiceField(
        label=_("Category"),
        choices=[("", _("All categories")), *CapCategory.choices],
        required=False,
    )
    min_level = forms.TypedChoiceField(
        label=_("From level"), choices=Level.choices, coerce=int, initial=Level.IV
    )
    sms = forms.BooleanField(label=_("Also by SMS"), required=False)

    def __init__(self, *args, places: list[Place], **kwargs):
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["place"]).choices = [
            (p.code, p.full_name) for p in places
        ]


class WebhookForm(CheckedForm):
    name = forms.CharField(label=_("Name"), max_length=100, required=False)
    url = forms.CharField(label=_("URL"), max_length=500, required=False)
    place = forms.ChoiceField(label=_("Place"))

    def __init__(self, *args, places: list[Place], **kwargs):
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["place"]).choices = [
            (p.code, p.full_name) for p in places
        ]
