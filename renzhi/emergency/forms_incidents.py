"""Forms of the incident-side pages. They only shape input; every rule is checked by the action
the view calls, whose field-named errors are attached back to these fields."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from renzhi.core.models import Role
from renzhi.core.text import CheckedForm
from renzhi.emergency.models import IncidentStatus, IncidentType, ResponseLevel, ReviewChange
from renzhi.emergency.shelters import FACILITIES

LEVEL_CHOICES = [(v, label) for v, label in ResponseLevel.choices]


class IncidentForm(CheckedForm):
    title = forms.CharField(label=_("Title"), max_length=120)
    kind = forms.ChoiceField(label=_("Type"), choices=IncidentType.choices)
    severity = forms.TypedChoiceField(
        label=_("Severity"), choices=LEVEL_CHOICES, coerce=int, initial=ResponseLevel.IV
    )
    place = forms.ChoiceField(label=_("Place that runs it"))
    places = forms.MultipleChoiceField(
        label=_("Affected places"),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 5}),
        help_text=_("Leave empty when only the place itself is affected."),
    )
    started_at = forms.DateTimeField(
        label=_("Started at"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 4})
    )
    warning = forms.IntegerField(required=False, widget=forms.HiddenInput)
    hot_issue = forms.CharField(required=False, max_length=40, widget=forms.HiddenInput)

    def __init__(self, *args, places=(), **kwargs):
        super().__init__(*args, **kwargs)
        choices = [(p.code, _indent(p)) for p in places]
        self.fields["place"].choices = choices
        self.fields["places"].choices = choices


class StatusForm(CheckedForm):
    status = forms.ChoiceField(label=_("New status"), choices=IncidentStatus.choices)
    note = forms.CharField(label=_("Note"), required=False, max_length=500)


class LogForm(CheckedForm):
    text = forms.CharField(
        label=_("Add to the log"), widget=forms.Textarea(attrs={"rows": 2}), max_length=2000
    )


class LevelForm(CheckedForm):
    level = forms.TypedChoiceField(label=_("Response level"), choices=LEVEL_CHOICES, coerce=int)
    note = forms.CharField(label=_("Note"), required=False, max_length=300)


class TaskForm(CheckedForm):
    title = forms.CharField(label=_("Task"), max_length=200)
    deadline = forms.DateTimeField(
        label=_("Deadline"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    assignee = forms.ChoiceField(label=_("Person"), required=False)
    team = forms.ChoiceField(label=_("Team"), required=False)
    unit = forms.ChoiceField(label=_("Handling unit"), required=False)
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, people=(), teams=(), units=(), **kwargs):
        super().__init__(*args, **kwargs)
        blank = [("", "—")]
        self.fields["assignee"].choices = blank + [
            (str(u.pk), u.display_name or u.username) for u in people
        ]
        self.fields["team"].choices = blank + [(str(t.pk), t.name) for t in teams]
        self.fields["unit"].choices = blank + [(str(u.pk), u.name) for u in units]


class ReportForm(CheckedForm):
    note = forms.CharField(label=_("What was done"), widget=forms.Textarea(attrs={"rows": 3}))
    # A plain file field: the action checks it through renzhi.core.uploads (kind by content,
    # pixel cap before decoding), so a decompression bomb is refused there, by name.
    photo = forms.FileField(
        label=_("Photo"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": "image/*"}),
    )
    lat = forms.FloatField(required=False, widget=forms.HiddenInput)
    lng = forms.FloatField(required=False, widget=forms.HiddenInput)
    done = forms.BooleanField(label=_("The task is done"), required=False)


class CancelForm(CheckedForm):
    reason = forms.CharField(label=_("Reason"), max_length=200)


ACTION_HELP = _(
    "One per line: action | role | hours. The role is a role name such as 社区工作者 or its "
    "code (community_staff, grid_worker, unit_handler, volunteer, social_worker, dispatcher)."
)


class PlanForm(CheckedForm):
    """A whole plan version: title/type/place for a new plan, then the four levels."""

    title = forms.CharField(label=_("Title"), max_length=120)
    kind = forms.ChoiceField(label=_("Incident type"), choices=IncidentType.choices)
    place = forms.ChoiceField(label=_("Place"))
    note = forms.CharField(label=_("What changed"), max_length=300, required=False)

    def __init__(self, *args, places=(), existing=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["place"].choices = [(p.code, _indent(p)) for p in places]
        if existing:
            for name in ("title", "kind", "place"):
                self.fields[name].required = False
                self.fields[name].disabled = True
            self.fields["note"].required = True
        for level in (4, 3, 2, 1):
            roman = {4: "IV", 3: "III", 2: "II", 1: "I"}[level]
            self.fields[f"level_{roman}_summary"] = forms.CharField(
                label=_("Level %(r)s: when to use it") % {"r": roman},
                required=False,
                widget=forms.Textarea(attrs={"rows": 2}),
            )
            self.fields[f"level_{roman}_actions"] = forms.CharField(
                label=_("Level %(r)s: actions") % {"r": roman},
                widget=forms.Textarea(attrs={"rows": 4}),
                help_text=ACTION_HELP,
            )
            self.fields[f"level_{roman}_reserves"] = forms.CharField(
                label=_("Level %(r)s: reserves per 1,000 residents") % {"r": roman},
                required=False,
                widget=forms.Textarea(attrs={"rows": 3}),
                help_text=_("One per line: item code | quantity"),
            )
            self.fields[f"level_{roman}_people"] = forms.CharField(
                label=_("Level %(r)s: people to mobilise") % {"r": roman},
                required=False,
                widget=forms.Textarea(attrs={"rows": 2}),
                help_text=_("One per line: skill code | number of people"),
            )


class ShelterForm(CheckedForm):
    name = forms.CharField(label=_("Name"), max_length=120)
    place = forms.ChoiceField(label=_("Community"))
    capacity = forms.IntegerField(label=_("Capacity"), min_value=1)
    address = forms.CharField(label=_("Address"), required=False, max_length=200)
    facilities = forms.MultipleChoiceField(
        label=_("Facilities"),
        required=False,
        choices=list(FACILITIES.items()),
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, places=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["place"].choices = [(p.code, _indent(p)) for p in places]


class CheckInForm(CheckedForm):
    name = forms.CharField(label=_("Name"), max_length=80)
    people = forms.IntegerField(label=_("Number of people"), initial=1)
    phone = forms.CharField(label=_("Phone"), required=False, max_length=20)


class ReviewForm(CheckedForm):
    summary = forms.CharField(
        label=_("Summary of the incident"), widget=forms.Textarea(attrs={"rows": 4})
    )
    lessons = forms.CharField(label=_("Lessons"), widget=forms.Textarea(attrs={"rows": 4}))


class ChangeForm(CheckedForm):
    """One plan change asked by the review (a formset of three rows on the page)."""

    plan = forms.ChoiceField(label=_("Plan"), required=False)
    level = forms.TypedChoiceField(
        label=_("Response level"), choices=LEVEL_CHOICES, coerce=int, required=False
    )
    change = forms.ChoiceField(
        label=_("Change"), choices=[("", "—"), *ReviewChange.choices], required=False
    )
    target = forms.CharField(label=_("Action or code"), required=False, max_length=200)
    role = forms.ChoiceField(
        label=_("Responsible role"), choices=[("", "—"), *Role.choices], required=False
    )
    quantity = forms.DecimalField(label=_("Quantity"), required=False)

    def __init__(self, *args, plans=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["plan"].choices = [("", "—")] + [(str(p.pk), p.title) for p in plans]


def _indent(place) -> str:
    depth = {6: 0, 9: 1, 12: 2, 15: 3}.get(len(place.code), 0)
    return "\u3000" * depth + place.name
