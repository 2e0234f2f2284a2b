"""Where a proposal came from: an appeal or a hot issue must exist and be visible to its author.

A proposal raised from an appeal (接诉即办) or a hot issue names it in `source_ref`, and the page
shows it. An origin nobody can check would let anyone claim one, so `check` looks it up:
- an appeal by tracking number among the appeals the author may see (the appeals app's scope,
  looked up by name: commons sits beside appeals, not above it);
- a hot issue by id, only for the community's staff (hot issues are a staff view) and only one
  of the proposal's community (looked up by model name: triage sits above commons).
"""

from __future__ import annotations

from django.apps import apps
from django.utils.translation import gettext as _

from renzhi.commons import rules
from renzhi.commons.actions.guards import refuse
from renzhi.commons.models import Origin
from renzhi.core.models import Place, User


def check(author: User, community: Place, source: str, source_ref: str) -> str:
    """The checked reference (stripped), or a field error on `source_ref`."""
    ref = (source_ref or "").strip()
    if not ref:
        refuse(_("Name the appeal or hot issue this proposal comes from."), "source_ref")
    if len(ref) > 40 or not _exists_for(author, community, source, ref):
        refuse(_("No appeal or hot issue with this reference is visible to you."), "source_ref")
    return ref


def _exists_for(author: User, community: Place, source: str, ref: str) -> bool:
    if source == Origin.APPEAL:
        from renzhi.appeals import queries as appeal_queries

        return appeal_queries.appeals_for(author).filter(tracking_no=ref).exists()
    if source == Origin.HOT_ISSUE:
        if not ref.isdigit() or not rules.is_staff_of(author, community):
            return False
        try:
            model = apps.get_model("triage", "HotIssue")
        except LookupError:
            return False
        return model.objects.filter(pk=int(ref), community=community).exists()
    return False
