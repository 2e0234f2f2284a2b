"""Forms of the web UI. They parse and label input; the rules live in renzhi.core.actions.

Field names match the `field` of the action errors they receive (see `show_errors`), so an
action's message lands next to the field it is about.
"""

from __future__ import annotations

from typing import cast

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from renzhi.core.errors import ActionError
from renzhi.core.models import Place, PlaceLevel, Role
from renzhi.core.text import CheckedForm, TextFormMixin
from renzhi.web.presenters import place_choices

PASSWORD_HELP = _("At least 8 characters, with both letters and digits; not a common password.")


def show_errors(
    form: forms.Form, error: ActionError, aliases: dict[str, str] | None = None
) -> None:
    """Attach an action's field errors to the form; errors about other fields go on top."""
    aliases = aliases or {}
    for e in error.errors:
        name = aliases.get(e.field or "", e.field)
        form.add_error(name if name in form.fields else None, e.message)


class LoginForm(TextFormMixin, AuthenticationForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["username"].label = _("Username or phone number")
        self.fields["username"].widget.attrs.update({"autocomplete": "username", "autofocus": True})


class RegisterPhoneForm(CheckedForm):
    """Registration step 1: the number to text a code to."""

    phone = forms.CharField(
        label=_("Mobile number"),
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "tel"}),
    )


class RegisterForm(CheckedForm):
    """Registration step 2: the texted code and the account details (the phone is the
    session's, from step 1)."""

    code = forms.CharField(
        label=_("Code from the text message"),
        max_length=6,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code"}),
    )
    display_name = forms.CharField(label=_("Your name"), max_length=50, required=False)
    home_place = forms.ChoiceField(label=_("Community"))
    password = forms.CharField(
        label=_("Password"),
        help_text=PASSWORD_HELP,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password_again = forms.CharField(
        label=_("Password again"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Any visitor may pick from the communities; they are public names, not scoped data.
        communities = Place.objects.filter(level=PlaceLevel.COMMUNITY).select_related("parent")
        self.communities = {p.code: p for p in communities}
        self.fields["home_place"].choices = [("", _("Choose your community"))] + [
            (p.code, f"{p.parent.name} · {p.name}" if p.parent else p.name)
            for p in self.communities.values()
        ]

    def clean_home_place(self) -> Place:
        return self.communities[self.cleaned_data["home_place"]]

    def clean(self):
        data = super().clean()
        if data.get("password") and data.get("password_again") not in (None, data["password"]):
            self.add_error("password_again", _("The two passwords differ."))
        return data


class UserSearchForm(CheckedForm):
    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=100,
        widget=forms.TextInput(
            attrs={"type": "search", "placeholder": _("Username, name or phone")}
        ),
    )
    role = forms.ChoiceField(
        label=_("Role"), required=False, choices=[("", _("All roles")), *Role.choices]
    )


class RoleFields(CheckedForm):
    """Role + place + unit, with the places and units the acting administrator may assign."""

    role = forms.ChoiceField(label=_("Role"), choices=[("", _("Choose a role")), *Role.choices])
    place = forms.ChoiceField(
        label=_("Place"),
        required=False,
        help_text=_("Every role except unit handler is bound to a place."),
    )
    unit = forms.ChoiceField(
        label=_("Unit"), required=False, help_text=_("Only for unit handlers.")
    )

    def __init__(self, *args, places=(), units=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.places = {p.code: p for p in places}
        self.units = {u.code: u for u in units}
        self.fields["place"].choices = [("", _("No place")), *place_choices(self.places.values())]
        self.fields["unit"].choices = [("", _("No unit"))] + [
            (u.code, f"{u.name} ({u.code})") for u in self.units.values()
        ]

    def clean_place(self):
        return self.places.get(self.cleaned_data.get("place") or "")

    def clean_unit(self):
        return self.units.get(self.cleaned_data.get("unit") or "")


class GrantRoleForm(RoleFields):
    pass


class CreateUserForm(RoleFields):
    username = forms.CharField(
        label=_("Username"), max_length=150, widget=forms.TextInput(attrs={"autocomplete": "off"})
    )
    display_name = forms.CharField(label=_("Display name"), max_length=50, required=False)
    phone = forms.CharField(
        label=_("Mobile number"),
        max_length=20,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "numeric"}),
    )
    password = forms.CharField(
        label=_("Initial password"),
        help_text=PASSWORD_HELP,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    field_order = ["username", "display_name", "phone", "password", "role", "place", "unit"]

    def __init__(self, *args, role_required: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        role = cast(forms.ChoiceField, self.fields["role"])
        role.required = role_required
        if not role_required:
            role.choices = [("", _("No role yet")), *Role.choices]
            role.help_text = _("You can also grant roles later, on the account page.")


class PasswordForm(CheckedForm):
    password = forms.CharField(
        label=_("New password"),
        help_text=PASSWORD_HELP,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )


class CalendarOverrideForm(CheckedForm):
    date = forms.DateField(label=_("Date"), widget=forms.DateInput(attrs={"type": "date"}))
    is_working_day = forms.TypedChoiceField(
        label=_("This day is"),
        coerce=lambda v: v == "1",
        choices=[("1", _("a working day")), ("0", _("a day off"))],
    )
    note = forms.CharField(
        label=_("Note"),
        max_length=100,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": _("e.g. 2027 Spring Festival")}),
    )


class TokenForm(CheckedForm):
    name = forms.CharField(
        label=_("Token name"),
        max_length=100,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": _("e.g. 12345 hotline bridge")}),
    )
