"""Forms of the appeals pages. They parse and label input; the rules live in
`renzhi.appeals.actions`.

Field names match the `field` of the action errors they receive (`renzhi.web.forms.show_errors`),
so an action's message lands next to the field it is about: `description`, `category`, `place`,
`location` (the map point), `contact_phone`, `photos`, `note`, `reason`, `result`, `unit`,
`days`, `into`, `rating`. Fields that an action checks itself are optional here (and marked
`required` in HTML only), so the person reads the action's own words, not a generic "required".
"""

from __future__ import annotations

from django import forms
from django.utils.functional import lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from renzhi.appeals.attachments import MAX_PHOTOS
from renzhi.appeals.models import Appeal, Category, Priority
from renzhi.core.models import Place, PlaceLevel, Unit
from renzhi.core.text import CheckedForm


def _photo_help() -> str:
    return gettext("Up to %(n)d photos, JPEG/PNG/WebP/GIF, at most 10 MB each.") % {"n": MAX_PHOTOS}


PHOTO_HELP = lazy(_photo_help, str)()


class MultipleFileInput(forms.FileInput):
    allow_multiple_selected = True


class PhotosField(forms.FileField):
    """Several images in one input; the action checks count, size and content."""

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("label", _("Photos"))
        kwargs.setdefault("help_text", PHOTO_HELP)
        kwargs.setdefault(
            "widget", MultipleFileInput(attrs={"accept": "image/*", "multiple": True})
        )
        super().__init__(**kwargs)

    def clean(self, data, initial=None):
        files = data if isinstance(data, list | tuple) else [data]
        single = super().clean
        return [single(f, initial) for f in files if f]


def _text(
    label, *, rows: int = 3, required_hint: bool = True, max_length: int = 4000, placeholder=None
) -> forms.CharField:
    attrs: dict = {"rows": rows, "maxlength": max_length}
    if required_hint:
        attrs["required"] = True
    if placeholder:
        attrs["placeholder"] = placeholder
    return forms.CharField(label=label, required=False, widget=forms.Textarea(attrs=attrs))


class _DescriptionMixin:
    """A blank description is reported together with the form's other mistakes (the action
    says the same, in the same words, when it is called directly)."""

    def clean_description(self) -> str:
        value = (self.cleaned_data.get("description") or "").strip()  # type: ignore[attr-defined]
        if not value:
            raise forms.ValidationError(_("Please describe the problem."))
        return value


def category_choices(categories) -> list:
    """Grouped choices: one optgroup per first-level category, its subcategories inside."""
    tops = [c for c in categories if c.parent_id is None]
    children: dict[int, list[Category]] = {}
    for c in categories:
        if c.parent_id is not None:
            children.setdefault(c.parent_id, []).append(c)
    groups: list = [("", _("Choose a category"))]
    for top in tops:
        kids = children.get(top.pk, [])
        if kids:
            groups.append((top.name, [(k.code, k.name) for k in kids]))
        else:
            groups.append((top.code, top.name))
    return groups


def category_tree(categories) -> list[dict]:
    """The picker's JSON: first-level categories with their subcategories (names, codes and
    search keywords only)."""
    tops = [c for c in categories if c.parent_id is None]
    children: dict[int, list[Category]] = {}
    for c in categories:
        if c.parent_id is not None:
            children.setdefault(c.parent_id, []).append(c)
    return [
        {
            "code": top.code,
            "name": top.name,
            "keywords": top.keywords,
            "children": [
                {
                    "code": k.code,
                    "name": k.name,
                    "keywords": k.keywords,
                    "description": k.description,
                }
                for k in children.get(top.pk, [])
            ],
        }
        for top in tops
    ]


def place_options(places) -> list:
    """Communities with their grids indented beneath, labelled by name (codes are values)."""
    ordered = sorted(places, key=lambda p: p.code)
    options: list = []
    for p in ordered:
        if p.level == PlaceLevel.COMMUNITY:
            options.append((p.code, p.name))
        elif p.level == PlaceLevel.GRID:
            options.append((p.code, f"\u3000{p.name}"))
    return options


class _CategoryMixin:
    fields: dict
    cleaned_data: dict

    def _set_categories(self, categories) -> None:
        self.categories = {c.code: c for c in categories}
        self.fields["category"].choices = category_choices(list(self.categories.values()))

    def clean_category(self) -> Category | None:
        return self.categories.get(self.cleaned_data.get("category") or "")


class _LocationMixin:
    """lat/lng from the map (hidden inputs) or a place from the select."""

    fields: dict
    cleaned_data: dict

    def _set_places(self, places) -> None:
        self.places = {p.code: p for p in places}
        self.fields["place"].choices = [
            ("", _("Choose a community or grid")),
            *place_options(self.places.values()),
        ]

    def clean_place(self) -> Place | None:
        return self.places.get(self.cleaned_data.get("place") or "")


def _location_fields() -> dict:
    return {
        "lat": forms.FloatField(required=False, widget=forms.HiddenInput),
        "lng": forms.FloatField(required=False, widget=forms.HiddenInput),
        # Carries the action's errors about the map point (field "location").
        "location": forms.CharField(
            required=False, widget=forms.HiddenInput, label=_("Location on the map")
        ),
    }


class ResidentAppealForm(_DescriptionMixin, _CategoryMixin, _LocationMixin, CheckedForm):
    """The phone-first form of a resident (channel web)."""

    category = forms.ChoiceField(
        label=_("Category"),
        error_messages={
            "required": _("Please choose a category."),
            "invalid_choice": _("Please choose a category from the list."),
        },
    )
    description = _text(
        _("What is the problem?"),
        rows=5,
        placeholder=_("Where, what, since when — e.g. the lift of building 3 has stopped."),
    )
    photos = PhotosField()
    lat = _location_fields()["lat"]
    lng = _location_fields()["lng"]
    location = _location_fields()["location"]
    address = forms.CharField(
        label=_("Address"),
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": _("Building, unit, landmark")}),
    )
    place = forms.ChoiceField(
        label=_("Community"),
        required=False,
        help_text=_("Used when no point is marked on the map."),
    )
    anonymous = forms.BooleanField(
        label=_("Hide my name from others"),
        required=False,
        help_text=_("Staff handling the case still see your contact details."),
    )
    public = forms.BooleanField(
        label=_("Publish this appeal on the open data service"),
        required=False,
        help_text=_(
            "Anyone may then read it without your name, phone or address, with its place "
            "shown only roughly (about 100 m)."
        ),
    )
    contact_phone = forms.CharField(
        label=_("Contact phone"),
        max_length=20,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "tel"}),
    )
    idempotency_key = forms.CharField(required=False, max_length=100, widget=forms.HiddenInput)

    def __init__(self, *args, categories=(), communities=(), **kwargs):
        super().__init__(*args, **kwargs)
        self._set_categories(categories)
        self.places = {p.code: p for p in communities}
        self.fields["place"].choices = [("", _("Choose your community"))] + [
            (p.code, f"{p.parent.name} · {p.name}" if p.parent_id and p.parent else p.name)
            for p in self.places.values()
        ]

    def clean_place(self) -> Place | None:
        return self.places.get(self.cleaned_data.get("place") or "")


class StaffIntakeForm(_DescriptionMixin, _CategoryMixin, _LocationMixin, CheckedForm):
    """Hotline entry (接线录入) and patrol report (巡查上报): the staff member types what the
    caller said or what they saw; the place is a community/grid of their jurisdiction or a map
    point."""

    contact_phone = forms.CharField(
        label=_("Caller's phone"),
        max_length=20,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    contact_name = forms.CharField(label=_("Caller's name"), max_length=50, required=False)
    description = _text(_("What the caller said"), rows=5)
    category = forms.ChoiceField(
        label=_("Category"),
        error_messages={
            "required": _("Please choose a category."),
            "invalid_choice": _("Please choose a category from the list."),
        },
    )
    place = forms.ChoiceField(label=_("Community or grid"), required=False)
    lat = _location_fields()["lat"]
    lng = _location_fields()["lng"]
    location = _location_fields()["location"]
    address = forms.CharField(label=_("Address"), max_length=200, required=False)
    priority = forms.ChoiceField(
        label=_("Priority"), choices=Priority.choices, initial=Priority.NORMAL
    )
    photos = PhotosField()
    idempotency_key = forms.CharField(required=False, max_length=100, widget=forms.HiddenInput)

    def __init__(self, *args, categories=(), places=(), patrol: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self._set_categories(categories)
        self._set_places(places)
        if patrol:
            self.fields["description"].label = _("What you saw")
            self.fields["contact_phone"].label = _("Contact phone")
            self.fields["contact_phone"].help_text = _("Optional: a resident to call back.")
            self.fields["contact_name"].label = _("Contact name")
        else:
            del self.fields["photos"]


# --- Steps on one appeal --------------------------------------------------------------------


class NoteForm(CheckedForm):
    note = _text(_("Note"), rows=2, required_hint=False)


class RequiredNoteForm(CheckedForm):
    note = _text(_("Note"), rows=2)


class ReasonForm(CheckedForm):
    reason = _text(_("Reason"), rows=2)


class OptionalReasonForm(CheckedForm):
    reason = _text(_("Reason"), rows=2, required_hint=False)


class UnitChoiceMixin:
    fields: dict
    cleaned_data: dict

    def _set_units(self, unit_groups: list[tuple[str, list[Unit]]], initial: Unit | None) -> None:
        self.units = {u.code: u for _label, units in unit_groups for u in units}
        choices: list = [("", _("Choose a unit"))]
        for label, units in unit_groups:
            if units:
                choices.append((label, [(u.code, u.name) for u in units]))
        self.fields["unit"].choices = choices
        if initial is not None:
            self.fields["unit"].initial = initial.code

    def clean_unit(self) -> Unit | None:
        return self.units.get(self.cleaned_data.get("unit") or "")


class DispatchForm(UnitChoiceMixin, CheckedForm):
    unit = forms.ChoiceField(
        label=_("Handling unit"), required=False, widget=forms.Select(attrs={"required": True})
    )
    note = _text(_("Note to the unit"), rows=2, required_hint=False)

    def __init__(self, *args, unit_groups=(), suggested: Unit | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self._set_units(list(unit_groups), suggested)


class TransferForm(UnitChoiceMixin, CheckedForm):
    unit = forms.ChoiceField(
        label=_("Transfer to"), required=False, widget=forms.Select(attrs={"required": True})
    )
    reason = _text(_("Reason"), rows=2)

    def __init__(self, *args, unit_groups=(), suggested: Unit | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self._set_units(list(unit_groups), None)


class ProgressForm(CheckedForm):
    note = _text(_("Progress"), rows=3)
    photos = PhotosField()


class ResolveForm(CheckedForm):
    result = _text(_("How it was resolved"), rows=3)
    photos = PhotosField()


class ExtensionForm(CheckedForm):
    days = forms.FloatField(
        label=_("Extra working days"),
        min_value=0.5,
        max_value=30,
        widget=forms.NumberInput(attrs={"step": "0.5", "inputmode": "decimal"}),
    )
    reason = _text(_("Reason"), rows=2)


class DecideExtensionForm(CheckedForm):
    decision = forms.ChoiceField(
        label=_("Decision"),
        widget=forms.RadioSelect,
        choices=[("approve", _("Approve")), ("reject", _("Refuse"))],
        initial="approve",
    )
    note = _text(_("Note"), rows=2, required_hint=False)


class MergeForm(CheckedForm):
    into = forms.CharField(
        label=_("Tracking number of the main appeal"),
        max_length=20,
        required=False,
        widget=forms.TextInput(
            attrs={"placeholder": "RZ20260302-000001", "required": True, "autocomplete": "off"}
        ),
    )
    note = _text(_("Note"), rows=2, required_hint=False)

    def __init__(self, *args, visible=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.visible = visible if visible is not None else Appeal.objects.none()

    def clean_into(self) -> Appeal:
        number = (self.cleaned_data.get("into") or "").strip().upper()
        if not number:
            raise forms.ValidationError(_("Please give the tracking number of the main appeal."))
        master = self.visible.filter(tracking_no=number).first()
        if master is None:
            raise forms.ValidationError(_("No such appeal, or it is outside your jurisdiction."))
        return master


RATING_CHOICES = [
    (5, _("5 stars — satisfied")),
    (4, _("4 stars — satisfied")),
    (3, _("3 stars — basically satisfied")),
    (2, _("2 stars — not satisfied")),
    (1, _("1 star — not satisfied")),
]


class RateForm(CheckedForm):
    rating = forms.TypedChoiceField(
        label=_("Rating"),
        coerce=int,
        choices=RATING_CHOICES,
        widget=forms.RadioSelect,
        error_messages={
            "required": _("Please choose from 1 to 5 stars."),
            "invalid_choice": _("Please choose from 1 to 5 stars."),
        },
    )
    comment = _text(_("Comment"), rows=2, required_hint=False, max_length=2000)


class QueueFilterForm(CheckedForm):
    """The list filters; names and meaning are those of GET /api/appeals/export.xlsx."""

    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=100,
        widget=forms.TextInput(
            attrs={"type": "search", "placeholder": _("Words, tracking number, address")}
        ),
    )
    state = forms.ChoiceField(label=_("State"), required=False)
    category = forms.ChoiceField(label=_("Category"), required=False)
    place = forms.ChoiceField(label=_("Place"), required=False)
    channel = forms.ChoiceField(label=_("Channel"), required=False)
    unit = forms.ChoiceField(label=_("Handling unit"), required=False)
    date_from = forms.DateField(
        label=_("Received from"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label=_("Received until"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    overdue = forms.BooleanField(label=_("Overdue only"), required=False)
    supervised = forms.BooleanField(label=_("Under supervision only"), required=False)
    mine = forms.ChoiceField(
        required=False, choices=[("", ""), ("1", "1"), ("0", "0")], widget=forms.HiddenInput
    )

    def __init__(
        self,
        *args,
        state_choices=(),
        categories=(),
        places=(),
        units=(),
        channel_choices=(),
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        self.fields["state"].choices = [("", _("All states")), *state_choices]
        cats: list = [("", _("All categories"))]
        for c in categories:
            cats.append((c.code, f"\u3000{c.name}" if c.parent_id else c.name))
        self.fields["category"].choices = cats
        self.fields["place"].choices = [("", _("All places"))] + [
            (p.code, ("\u3000" * max(0, (len(p.code) - 9) // 3)) + p.name) for p in places
        ]
        self.fields["channel"].choices = [("", _("All channels")), *channel_choices]
        self.fields["unit"].choices = [("", _("All units"))] + [(u.code, u.name) for u in units]

    def clean(self):
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and end < start:
            self.add_error("date_to", _("The end date is before the start date."))
        return data
