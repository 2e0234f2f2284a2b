"""Password rules on top of Django's validators."""

from django.contrib.auth.password_validation import MinimumLengthValidator
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext


class CharacterClassValidator:
    """Letters and digits both required."""

    def validate(self, password: str, user=None) -> None:
        if not (any(c.isalpha() for c in password) and any(c.isdigit() for c in password)):
            raise ValidationError(
                _("The password must contain both letters and digits."), code="password_classes"
            )

    def get_help_text(self) -> str:
        return _("Your password must contain both letters and digits.")


class LengthValidator(MinimumLengthValidator):
    """Django's minimum length, with a message our catalogue translates.

    Django 5.2 changed this message's msgid and its own zh_Hans catalogue has not caught up, so
    the stock validator shows English in the Chinese UI.
    """

    def get_error_message(self) -> str:
        return ngettext(
            "The password is too short: at least %(n)d character.",
            "The password is too short: at least %(n)d characters.",
            self.min_length,
        ) % {"n": self.min_length}
