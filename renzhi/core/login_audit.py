"""Login attempts, from every path that authenticates (web, admin, API), go to the audit chain.

Auth signals are Django's single hook for all of them; the receivers only record, they decide
nothing.
"""

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db import transaction
from django.dispatch import receiver

from renzhi.core import audit


@receiver(user_logged_in)
def _logged_in(sender, request, user, **kwargs):
    with transaction.atomic():
        audit.record(user, "auth.login", user, after={"result": "success"})


@receiver(user_logged_out)
def _logged_out(sender, request, user, **kwargs):
    if user is not None:
        with transaction.atomic():
            audit.record(user, "auth.logout", user)


@receiver(user_login_failed)
def _login_failed(sender, credentials, request=None, **kwargs):
    username = str(credentials.get("username", ""))[:150]
    with transaction.atomic():
        audit.record(
            None,
            "auth.login_failed",
            None,
            object_type="core.user",
            object_id="",
            label=username,
            after={"result": "failure", "username": username},
        )
