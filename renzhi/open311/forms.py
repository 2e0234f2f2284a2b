"""Forms of the adapter's admin pages; the actions do the real checks."""

from __future__ import annotations

from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from renzhi.core import scope
from renzhi.core.models import Place, PlaceLevel, Role, User
from renzhi.core.text import CheckedForm
from renzhi.open311.actions import MAX_RATE_LIMIT
from renzhi.open311.models import Datatype


class KeyForm(CheckedForm):
    name = forms.CharField(
        label=_("Partner name"),
        max_length=100,
        widget=forms.TextInput(attrs={"placeholder": _("e.g. neighbouring district app")}),
    )
    place = forms.ModelChoiceField(
        label=_("Service area"),
        queryset=Place.objects.none(),
        required=False,
        help_text=_("The partner may file appeals only inside this area."),
    )
    rate_limit = forms.IntegerField(
        label=_("Requests per minute"), min_value=1, max_value=MAX_RATE_LIMIT, initial=60
    )

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["place"]
        assert isinstance(field, forms.ModelChoiceField)
        places = Place.objects.filter(level__in=[PlaceLevel.DISTRICT, PlaceLevel.STREET])
        codes = scope.jurisdiction_codes(user, roles_allowed={Role.ADMIN})
        if codes is None:
            field.empty_label = str(_("The whole service area"))
        else:
            condition = Q(pk__in=[])
            for code in codes:
                condition |= Q(code__startswith=code)
            places = places.filter(condition)
            field.required = True
            field.empty_label = None
        field.queryset = places.order_by("code")


class AttributeForm(CheckedForm):
    code = forms.CharField(
        label=_("Code"),
        max_length=50,
        help_text=_("Letters, digits, “_”, “-” or “.”; clients send attribute[code]=value."),
    )
    description = forms.CharField(label=_("Question"), max_length=300)
    datatype = forms.ChoiceField(label=_("Answer type"), choices=Datatype.choices)
    required = forms.BooleanField(label=_("Required"), required=False)
    variable = forms.BooleanField(
        label=_("Asks for input"),
        required=False,
        initial=True,
        help_text=_("Untick for a note shown to the user without an answer."),
    )
    order = forms.IntegerField(
        label=_("Order"),
        min_value=1,
        required=False,
        help_text=_("Empty: after the last one."),
    )
    datatype_description = forms.CharField(label=_("Input hint"), max_length=200, required=False)
    values = forms.CharField(
        label=_("Values"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "placeholder": "1=是\n0=否"}),
        help_text=_("For the choice types: one value per line as key=name."),
    )

    def clean_values(self) -> list[dict]:
        rows = []
        for line in (self.cleaned_data.get("values") or "").splitlines():
            if not line.strip():
                continue
            key, sep, name = line.partition("=")
            if not sep:
                raise forms.ValidationError(
                    _("Write each value as key=name (line “%(line)s”).") % {"line": line[:40]}
                )
            rows.append({"key": key.strip(), "name": name.strip()})
        return rows


def values_text(values: list[dict]) -> str:
    return "\n".join(f"{v['key']}={v['name']}" for v in values or [])
