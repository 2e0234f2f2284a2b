"""Forms of the reserves, people and register pages. They only shape input; every rule is
checked by the action the view calls, whose field-named errors land back on these fields
(field names match the actions' error fields)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from renzhi.core.text import CheckedForm
from renzhi.emergency.models import (
    NEEDS,
    CheckInOutcome,
    DepotKind,
    ItemCategory,
    PersonKind,
    QualificationLevel,
    VulnerableCategory,
)

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
QUANTITY = forms.NumberInput(attrs={"inputmode": "numeric", "min": "1"})


class StockMoveForm(CheckedForm):
    """Receive, issue or transfer — one form, the verb chosen by a button."""

    depot = forms.ChoiceField(label=_("Depot"))
    item = forms.ChoiceField(label=_("Item"))
    quantity = forms.IntegerField(label=_("Quantity"), widget=QUANTITY)
    to_depot = forms.ChoiceField(label=pgettext_lazy("emergency", "Transfer to"), required=False)
    batch_no = forms.CharField(label=_("Batch number"), required=False, max_length=40)
    expires_on = forms.DateField(label=_("Expires on"), required=False, widget=DATE)
    reason = forms.CharField(label=_("Reason"), required=False, max_length=200)
    incident = forms.ChoiceField(label=_("Incident"), required=False)

    def __init__(self, *args, depots=(), targets=(), items=(), incidents=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["depot"].choices = [(d.code, d.name) for d in depots]
        self.fields["to_depot"].choices = [("", "—")] + [(d.code, d.name) for d in targets]
        self.fields["item"].choices = [(i.code, f"{i.name}（{i.unit}）") for i in items]
        self.fields["incident"].choices = [("", "—")] + [(str(i.pk), i.title) for i in incidents]


class AdjustForm(CheckedForm):
    batch = forms.ChoiceField(label=_("Batch"))
    quantity = forms.IntegerField(
        label=_("Change (+ or −)"), help_text=_("Counted minus recorded, e.g. -2.")
    )
    reason = forms.CharField(label=_("Reason"), max_length=200)

    def __init__(self, *args, batches=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["batch"].choices = [
            (str(b.pk), f"{b.item.name} · {b.batch_no or '—'} · {b.quantity}") for b in batches
        ]


class MinimumForm(CheckedForm):
    item = forms.ChoiceField(label=_("Item"))
    minimum = forms.IntegerField(label=_("Minimum"), min_value=0)

    def __init__(self, *args, items=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["item"].choices = [(i.code, i.name) for i in items]


CODE_HELP = _("Short letters, digits and hyphens, e.g. jiayi-1. Used in links and spreadsheets.")
COORDINATE = forms.NumberInput(attrs={"step": "any", "inputmode": "decimal"})


class DepotForm(CheckedForm):
    """Add (with a code) or edit (code fixed) a depot."""

    code = forms.SlugField(label=_("Code"), max_length=40, help_text=CODE_HELP)
    name = forms.CharField(label=_("Name"), max_length=100)
    kind = forms.ChoiceField(label=_("Kind"), choices=DepotKind.choices)
    # A select, but not a ChoiceField: a place outside the list reaches the action, whose scope
    # check names the field ("you may not add a depot here") instead of "invalid choice".
    place = forms.CharField(label=_("Owning street or community"), widget=forms.Select)
    address = forms.CharField(label=_("Address"), required=False, max_length=200)
    lat = forms.FloatField(
        label=_("Latitude"), required=False, min_value=-90, max_value=90, widget=COORDINATE
    )
    lng = forms.FloatField(
        label=_("Longitude"), required=False, min_value=-180, max_value=180, widget=COORDINATE
    )

    def __init__(self, *args, places=(), editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["place"].widget.choices = [(p.code, p.full_name or p.name) for p in places]
        if editing:
            del self.fields["code"]


class ItemForm(CheckedForm):
    """Add (with a code) or edit (code fixed) an item of the catalogue."""

    code = forms.SlugField(label=_("Code"), max_length=40, help_text=CODE_HELP)
    name = forms.CharField(label=_("Name"), max_length=100)
    unit = forms.CharField(
        label=pgettext_lazy("measure", "Unit"), max_length=20, help_text=_("E.g. bottle, bag, box.")
    )
    category = forms.ChoiceField(label=_("Category"), choices=ItemCategory.choices)
    shelf_life_days = forms.IntegerField(
        label=_("Shelf life (days)"),
        required=False,
        help_text=_("Leave empty for goods that do not expire."),
    )
    daily_per_person = forms.DecimalField(
        label=_("Daily need per person"),
        required=False,
        max_digits=8,
        decimal_places=3,
        help_text=_("Used for days of supply; leave empty for tools and tents."),
    )
    one_per_household = forms.BooleanField(label=_("One per household"), required=False)

    def __init__(self, *args, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if editing:
            del self.fields["code"]


class MinimumsForm(CheckedForm):
    """One number per active item: the depot × item grid of minimum levels."""

    def __init__(self, *args, items=(), current=None, **kwargs):
        super().__init__(*args, **kwargs)
        current = current or {}
        self.items = list(items)
        for item in self.items:
            self.fields[f"minimum_{item.code}"] = forms.IntegerField(
                label=f"{item.name}（{item.unit}）",
                required=False,
                initial=current.get(item.pk),
                widget=forms.NumberInput(attrs={"inputmode": "numeric", "min": "0"}),
            )

    def values(self) -> dict:
        return {item: self.cleaned_data.get(f"minimum_{item.code}") for item in self.items}


class ImportForm(CheckedForm):
    file = forms.FileField(label=_("Stock count (.xlsx)"))


class RequestForm(CheckedForm):
    to_depot = forms.ChoiceField(label=_("For depot"))
    from_depot = forms.ChoiceField(label=_("Ask depot"))
    reason = forms.CharField(label=_("Reason"), required=False, max_length=300)
    incident = forms.ChoiceField(label=_("Incident"), required=False)
    LINES = 4

    def __init__(self, *args, own=(), suppliers=(), items=(), incidents=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to_depot"].choices = [(d.code, d.name) for d in own]
        self.fields["from_depot"].choices = [(d.code, d.name) for d in suppliers]
        self.fields["incident"].choices = [("", "—")] + [(str(i.pk), i.title) for i in incidents]
        item_choices = [("", "—")] + [(i.code, f"{i.name}（{i.unit}）") for i in items]
        for n in range(self.LINES):
            self.fields[f"item_{n}"] = forms.ChoiceField(
                label=_("Item"), choices=item_choices, required=False
            )
            self.fields[f"quantity_{n}"] = forms.IntegerField(
                label=_("Quantity"), required=False, widget=QUANTITY
            )

    def line_fields(self):
        return [(self[f"item_{n}"], self[f"quantity_{n}"]) for n in range(self.LINES)]


class DistributionForm(CheckedForm):
    depot = forms.ChoiceField(label=_("Depot"))
    address = forms.CharField(
        label=_("Household address"),
        max_length=120,
        help_text=_("Building-unit-room, e.g. 3-2-301. A new address registers the household."),
    )
    head_name = forms.CharField(label=_("Head of household"), required=False, max_length=50)
    item = forms.ChoiceField(label=_("Item"))
    quantity = forms.IntegerField(label=_("Quantity"), initial=1, widget=QUANTITY)
    signed_by = forms.CharField(label=_("Signed by"), max_length=50)
    incident = forms.ChoiceField(label=_("Incident"), required=False)

    def __init__(self, *args, depots=(), items=(), incidents=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["depot"].choices = [(d.code, d.name) for d in depots]
        self.fields["item"].choices = [(i.code, f"{i.name}（{i.unit}）") for i in items]
        self.fields["incident"].choices = [("", "—")] + [(str(i.pk), i.title) for i in incidents]


class ProfileForm(CheckedForm):
    username = forms.CharField(label=_("Account (username or phone)"), max_length=150)
    kind = forms.ChoiceField(label=_("Kind"), choices=PersonKind.choices)
    place = forms.ChoiceField(label=_("Community"))
    qualification_level = forms.ChoiceField(
        label=_("Qualification level"), choices=QualificationLevel.choices, required=False
    )
    certificate_no = forms.CharField(label=_("Certificate number"), required=False, max_length=64)
    insured_until = forms.DateField(label=_("Insured until"), required=False, widget=DATE)

    def __init__(self, *args, places=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["place"].choices = [(p.code, p.name) for p in places]


class CandidateForm(CheckedForm):
    incident = forms.ChoiceField(label=_("Incident"))
    skill = forms.ChoiceField(label=_("Skill"), required=False)
    limit = forms.IntegerField(label=_("How many"), initial=10, min_value=1, max_value=100)

    def __init__(self, *args, incidents=(), skills=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["incident"].choices = [(str(i.pk), i.title) for i in incidents]
        self.fields["skill"].choices = [("", _("Any skill"))] + [(s.code, s.name) for s in skills]


class TeamForm(CheckedForm):
    name = forms.CharField(label=_("Team name"), max_length=100)
    place = forms.ChoiceField(label=_("Place"))

    def __init__(self, *args, places=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["place"].choices = [(p.code, p.name) for p in places]


class AvailabilityForm(CheckedForm):
    weekdays = forms.MultipleChoiceField(
        label=_("Days"),
        widget=forms.CheckboxSelectMultiple,
        choices=[
            ("0", _("Mon")),
            ("1", _("Tue")),
            ("2", _("Wed")),
            ("3", _("Thu")),
            ("4", _("Fri")),
            ("5", _("Sat")),
            ("6", _("Sun")),
        ],
    )
    starts = forms.TimeField(label=_("From"), widget=forms.TimeInput(attrs={"type": "time"}))
    ends = forms.TimeField(label=_("Until"), widget=forms.TimeInput(attrs={"type": "time"}))


class ResidentForm(CheckedForm):
    name = forms.CharField(label=_("Full name"), max_length=50)
    address = forms.CharField(label=_("Address"), max_length=200)
    categories = forms.MultipleChoiceField(
        label=_("Categories"),
        choices=VulnerableCategory.choices,
        widget=forms.CheckboxSelectMultiple,
    )
    needs = forms.MultipleChoiceField(
        label=_("Needs"),
        choices=list(NEEDS.items()),
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    needs_note = forms.CharField(label=_("Needs in detail"), required=False, max_length=300)
    birth_year = forms.IntegerField(label=_("Year of birth"), required=False)
    phone = forms.CharField(label=_("Phone"), required=False, max_length=20)
    emergency_contact_name = forms.CharField(
        label=_("Emergency contact"), required=False, max_length=50
    )
    emergency_contact_phone = forms.CharField(
        label=_("Emergency contact phone"), required=False, max_length=20
    )
    place = forms.ChoiceField(label=_("Community"))
    consent_method = forms.CharField(
        label=_("How consent was given"),
        max_length=100,
        help_text=_("E.g. signed form, or verbal consent witnessed by a grid worker."),
    )

    def __init__(self, *args, places=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["place"].choices = [(p.code, p.name) for p in places]


class CheckInForm(CheckedForm):
    outcome = forms.ChoiceField(
        label=_("Outcome"), choices=CheckInOutcome.choices, widget=forms.RadioSelect
    )
    note = forms.CharField(label=_("Note"), required=False, max_length=300)


class PairForm(CheckedForm):
    helper = forms.ChoiceField(label=_("Paired helper"), required=False)

    def __init__(self, *args, helpers=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["helper"].choices = [("", _("Nobody"))] + [
            (u.username, u.display_name or u.username) for u in helpers
        ]
