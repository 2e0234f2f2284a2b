"""The case state machine (接诉即办), in one table.

Each verb lists the states it may start from and the state it leads to (None: the state stays,
e.g. supervise; "previous": back to the state before a suspension). `renzhi.appeals.actions`
looks every transition up here and refuses anything else with a clear message.

    received ─accept→ accepted ─dispatch→ dispatched ─sign→ signed ─progress→ handling
       │  └reject→ rejected        ↑  └return→ accepted        └──────resolve──────┘
       │                           └─ transfer / reopen ←── resolved ─rate(satisfied)→ closed
    withdraw / merge / suspend ⇄ resume / escalate / supervise / extend are side transitions.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from renzhi.appeals.models import State
from renzhi.core.errors import ActionError, ErrorCode

S = State
ACTIVE = frozenset({S.RECEIVED, S.ACCEPTED, S.DISPATCHED, S.SIGNED, S.HANDLING})


@dataclass(frozen=True)
class Transition:
    verb: str
    label: str
    sources: frozenset[str]
    target: str | None


def _t(verb: str, label, sources, target) -> tuple[str, Transition]:
    return verb, Transition(verb, label, frozenset(sources), target)


TRANSITIONS: dict[str, Transition] = dict(
    [
        _t("accept", gettext_lazy("Accept"), {S.RECEIVED}, S.ACCEPTED),
        _t("reject", gettext_lazy("Reject"), {S.RECEIVED, S.ACCEPTED}, S.REJECTED),
        _t("dispatch", gettext_lazy("Dispatch"), {S.ACCEPTED}, S.DISPATCHED),
        _t("sign", gettext_lazy("Sign for"), {S.DISPATCHED}, S.SIGNED),
        _t("progress", gettext_lazy("Report progress"), {S.SIGNED, S.HANDLING}, S.HANDLING),
        _t("resolve", gettext_lazy("Resolve"), {S.SIGNED, S.HANDLING}, S.RESOLVED),
        _t("rate", gettext_lazy("Rate"), {S.RESOLVED}, None),  # → closed, or reopened → dispatched
        _t("reopen", gettext_lazy("Reopen"), {S.RESOLVED}, S.DISPATCHED),
        _t("close", gettext_lazy("Close"), {S.RESOLVED}, S.CLOSED),
        _t(
            "return",
            gettext_lazy("Return to dispatcher"),
            {S.DISPATCHED, S.SIGNED, S.HANDLING},
            S.ACCEPTED,
        ),
        _t(
            "transfer", gettext_lazy("Transfer"), {S.DISPATCHED, S.SIGNED, S.HANDLING}, S.DISPATCHED
        ),
        _t("request_extension", gettext_lazy("Request extension"), {S.SIGNED, S.HANDLING}, None),
        _t("decide_extension", gettext_lazy("Decide extension"), {S.SIGNED, S.HANDLING}, None),
        _t("supervise", gettext_lazy("Supervise"), ACTIVE | {S.SUSPENDED}, None),
        _t(
            "suspend",
            gettext_lazy("Suspend"),
            {S.ACCEPTED, S.DISPATCHED, S.SIGNED, S.HANDLING},
            S.SUSPENDED,
        ),
        _t("resume", gettext_lazy("Resume"), {S.SUSPENDED}, "previous"),
        _t(
            "withdraw",
            gettext_lazy("Withdraw"),
            {S.RECEIVED, S.ACCEPTED, S.DISPATCHED, S.SIGNED},
            S.WITHDRAWN,
        ),
        _t("escalate", gettext_lazy("Escalate"), ACTIVE, S.ACCEPTED),
        _t("merge", gettext_lazy("Merge into another"), ACTIVE, S.MERGED),
        _t("comment", gettext_lazy("Internal note"), ACTIVE | {S.SUSPENDED, S.RESOLVED}, None),
    ]
)


def check(verb: str, state: str) -> Transition:
    """The transition for `verb` from `state`, or an ActionError saying why not."""
    transition = TRANSITIONS[verb]
    if state not in transition.sources:
        raise ActionError(
            _("Cannot “%(action)s” an appeal that is “%(state)s”.")
            % {"action": transition.label, "state": State(state).label},
            field="state",
            code=ErrorCode.INVALID_STATE,
        )
    return transition


def allowed_verbs(state: str) -> list[str]:
    return [verb for verb, t in TRANSITIONS.items() if state in t.sources]
