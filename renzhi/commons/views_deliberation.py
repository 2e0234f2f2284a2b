"""Pages of deliberation: proposal list, raising one (with hot-issue or appeal prefill), and
the proposal page that carries every step of the six (see views.py for the pattern)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy
from django.views.decorators.http import require_POST

from renzhi.commons import present, queries, rules
from renzhi.commons.actions import proposals as actions
from renzhi.commons.actions import votes
from renzhi.commons.actions.organisations import may_act_for
from renzhi.commons.models import (
    Comment,
    ImplementationTask,
    Organisation,
    Participation,
    Phase,
    ProposalOption,
    Vote,
    VoteMethod,
)
from renzhi.commons.views import _communities, _community_from, _int, _local_datetime, _user, run
from renzhi.core.errors import ActionError
from renzhi.core.http import AuthedRequest
from renzhi.web.access import requires

PHASE_STEPS = [
    (Phase.COLLECTING, pgettext_lazy("deliberation step", "Collect")),
    (Phase.AGENDA, pgettext_lazy("deliberation step", "Agenda")),
    (Phase.DISCUSSION, pgettext_lazy("deliberation step", "Discuss")),
    (Phase.VOTING, pgettext_lazy("deliberation step", "Vote")),
    (Phase.RESOLVED, pgettext_lazy("deliberation step", "Resolve")),
    (Phase.IMPLEMENTING, pgettext_lazy("deliberation step", "Implement")),
    (Phase.EVALUATING, pgettext_lazy("deliberation step", "Report and evaluate")),
]


@requires(rules.may_take_part)
def proposal_list(request: AuthedRequest) -> HttpResponse:
    qs = queries.proposals_for(request.user).order_by("-created_at", "-id")
    phase = request.GET.get("phase", "")
    if phase in Phase.values:
        qs = qs.filter(phase=phase)
    return render(
        request,
        "commons/proposals.html",
        {"rows": qs[:200], "phases": Phase.choices, "phase": phase},
    )


@requires(rules.may_take_part)
def proposal_new(request: AuthedRequest) -> HttpResponse:
    user = request.user
    my_orgs = [o for o in Organisation.objects.filter(leader=user) if may_act_for(user, o)]
    if request.method == "POST":
        created: list = []

        def work() -> None:
            org_id = request.POST.get("organisation")
            organisation = next((o for o in my_orgs if str(o.pk) == org_id), None)
            created.append(
                actions.raise_proposal(
                    user,
                    community=_community_from(request),
                    title=request.POST.get("title", ""),
                    body=request.POST.get("body", ""),
                    organisation=organisation,
                    source=request.POST.get("source", ""),
                    source_ref=request.POST.get("source_ref", ""),
                )
            )

        if run(request, work, _("Your proposal is open for supports.")):
            return redirect("commons:proposal", proposal_id=created[0].pk)
    prefill = defaultdict(str, _prefill(request))
    return render(
        request,
        "commons/proposal_new.html",
        {
            "communities": _communities(user),
            "organisations": my_orgs,
            "prefill": prefill,
            "posted": defaultdict(str, request.POST.dict()),
            "selected_org": request.GET.get("organisation", ""),
        },
    )


def _prefill(request: AuthedRequest) -> dict:
    """`?hot_issue=<id>` or `?appeal=<tracking_no>` from the appeals app; unknown ones ignored.

    Only among what the user may see there: the appeal among the user's appeals, the hot issue
    through triage's scoped lookup named by RENZHI_HOT_ISSUE_LOOKUP (commons does not import
    triage)."""
    appeal_no = request.GET.get("appeal", "").strip()
    if appeal_no:
        try:
            from renzhi.appeals import queries as appeal_queries

            appeal = appeal_queries.appeals_for(request.user).filter(tracking_no=appeal_no).first()
        except (ImportError, AttributeError, LookupError):
            appeal = None
        if appeal is not None:
            return {
                "title": (appeal.title or appeal.description)[:120],
                "body": appeal.description,
                "source": "appeal",
                "source_ref": appeal.tracking_no,
            }
    hot = request.GET.get("hot_issue", "").strip()
    lookup = getattr(settings, "RENZHI_HOT_ISSUE_LOOKUP", "")
    issue = import_string(lookup)(request.user, hot) if hot and lookup else None
    if issue is not None:
        title = str(getattr(issue, "title", "") or issue)
        return {
            "title": title[:120],
            "body": str(getattr(issue, "summary", "") or title),
            "source": "hot_issue",
            "source_ref": str(issue.pk),
        }
    return {}


@requires(rules.may_take_part)
def proposal_detail(request: AuthedRequest, proposal_id: int) -> HttpResponse:
    p = queries.proposals_for(request.user).filter(pk=proposal_id).first()
    if p is None:
        raise Http404
    user = request.user
    data = present.proposal_detail(p, user)
    vote = Vote.objects.filter(proposal=p).first()
    staff = rules.is_staff_of(user, p.community)
    now = timezone.now()
    vote_open = vote is not None and vote.status == "open" and vote.opens_at <= now < vote.closes_at
    comments = list(p.comments.select_related("author"))
    replied = {c.parent_id for c in comments if c.parent_id}
    for c in comments:
        c.reply_list = [r for r in comments if r.parent_id == c.pk]  # type: ignore[attr-defined]
    order = [s for s, _label in PHASE_STEPS]
    current = order.index(Phase(p.phase)) if p.phase in order else len(order)
    return render(
        request,
        "commons/proposal.html",
        {
            "p": p,
            "d": data,
            "steps": [
                {
                    "label": label,
                    "state": "done" if i < current else ("now" if i == current else ""),
                }
                for i, (_phase, label) in enumerate(PHASE_STEPS)
            ],
            "comments": [c for c in comments if c.parent_id is None],
            "replied": replied,
            "options": p.options.filter(withdrawn=False).select_related("proposed_by"),
            "vote": vote,
            "vote_options": list(vote.options.all()) if vote else [],
            "vote_open": vote_open,
            "i_voted": vote is not None
            and Participation.objects.filter(vote=vote, voter=user).exists(),
            "elector": rules.is_elector(user, p.community, p.building),
            "resident": rules.is_resident_of(user, p.community),
            "staff": staff,
            "methods": VoteMethod.choices,
            "default_close": (timezone.localtime(now) + dt.timedelta(days=7)).strftime(
                "%Y-%m-%dT%H:%M"
            ),
            "tasks": p.tasks.select_related("owner").prefetch_related("updates"),
            "result_rows": _result_rows(vote),
            "evaluated": p.evaluations.filter(user=user).exists(),
            "receipt": request.session.pop(f"commons_receipt_{p.pk}", ""),
            "is_owner_of_task": {t.pk for t in p.tasks.all() if t.owner_id == user.pk},
        },
    )


def _result_rows(vote: Vote | None) -> list[dict]:
    if vote is None or not vote.result:
        return []
    counts = vote.result.get("counts", {})
    cast = vote.result.get("cast") or 0
    return [
        {
            "label": o.label,
            "count": counts.get(str(o.position), 0),
            "percent": round(100 * counts.get(str(o.position), 0) / cast, 1) if cast else 0,
            "winner": vote.result.get("winner") == o.position,
        }
        for o in vote.options.all()
    ]


def _cast(request: AuthedRequest, p) -> None:
    vote = Vote.objects.filter(proposal=p).first()
    if vote is None:
        raise ActionError(_("This proposal has no vote yet."), field="vote")
    if vote.method == VoteMethod.RANKED:
        ranked = []
        for o in vote.options.all():
            rank = request.POST.get(f"rank_{o.position}", "")
            if rank.isdigit():
                ranked.append((int(rank), o.position))
        choice = [pos for _rank, pos in sorted(ranked)]
    else:
        choice = [int(v) for v in request.POST.getlist("choice") if v.isdigit()]
    behalf = request.POST.get("on_behalf_of", "").strip()
    result = votes.cast_vote(
        request.user,
        vote,
        choice,
        receipt=request.POST.get("receipt", ""),
        on_behalf_of=_user(behalf, "on_behalf_of") if behalf else None,
        proxy_note=request.POST.get("proxy_note", ""),
    )
    if result.receipt and not result.changed:
        request.session[f"commons_receipt_{p.pk}"] = result.receipt


def _open_vote(request: AuthedRequest, p) -> None:
    options = [
        line.strip() for line in request.POST.get("options", "").splitlines() if line.strip()
    ]
    votes.open_vote(
        request.user,
        p,
        method=request.POST.get("method", "yes_no"),
        closes_at=_local_datetime(request.POST.get("closes_at", ""), "closes_at"),
        options=options,
        quorum_rule=request.POST.get("quorum_rule", "percent"),
        quorum_percent=_int(request.POST.get("quorum_percent") or "50", "quorum_percent"),
        pass_rule=request.POST.get("pass_rule", "simple"),
        by_area=request.POST.get("by_area") == "on",
        allow_change=request.POST.get("allow_change") == "on",
    )


def _comment(request: AuthedRequest, p) -> None:
    parent_id = request.POST.get("parent")
    parent = Comment.objects.filter(proposal=p, pk=parent_id).first() if parent_id else None
    actions.comment(request.user, p, request.POST.get("body", ""), parent)


def _task(request: AuthedRequest, p) -> ImplementationTask:
    return ImplementationTask.objects.get(proposal=p, pk=_int(request.POST.get("task"), "task"))


VERBS: dict[str, tuple[Callable, Any]] = {
    "support": (
        lambda r, p: actions.support(r.user, p),
        gettext_lazy("Thank you for your support."),
    ),
    "agenda": (
        lambda r, p: actions.set_agenda(r.user, p),
        gettext_lazy("The proposal is on the agenda."),
    ),
    "decline": (
        lambda r, p: actions.decline(r.user, p, r.POST.get("reason", "")),
        gettext_lazy("Declined."),
    ),
    "discussion": (
        lambda r, p: actions.open_discussion(r.user, p),
        gettext_lazy("The discussion is open."),
    ),
    "comment": (_comment, gettext_lazy("Comment posted.")),
    "edit_comment": (
        lambda r, p: actions.edit_comment(
            r.user,
            Comment.objects.get(proposal=p, pk=_int(r.POST.get("comment"), "comment")),
            r.POST.get("body", ""),
        ),
        gettext_lazy("Comment edited."),
    ),
    "hide_comment": (
        lambda r, p: actions.hide_comment(
            r.user,
            Comment.objects.get(proposal=p, pk=_int(r.POST.get("comment"), "comment")),
            r.POST.get("reason", ""),
        ),
        gettext_lazy("Comment hidden."),
    ),
    "option": (
        lambda r, p: actions.propose_option(r.user, p, r.POST.get("label", "")),
        gettext_lazy("Option proposed."),
    ),
    "amend_option": (
        lambda r, p: actions.amend_option(
            r.user,
            ProposalOption.objects.get(proposal=p, pk=_int(r.POST.get("option"), "option")),
            r.POST.get("label", ""),
        ),
        gettext_lazy("Option amended."),
    ),
    "open_vote": (_open_vote, gettext_lazy("The vote is open.")),
    "cast": (
        _cast,
        gettext_lazy("Your vote was recorded. It is secret: nobody can see what you chose."),
    ),
    "close_vote": (
        lambda r, p: votes.close_vote(r.user, Vote.objects.get(proposal=p)),
        gettext_lazy("The vote was counted."),
    ),
    "resolution": (
        lambda r, p: actions.record_resolution(r.user, p, r.POST.get("resolution", "")),
        gettext_lazy("Resolution recorded."),
    ),
    "task": (
        lambda r, p: actions.add_task(
            r.user, p, title=r.POST.get("title", ""), owner=_user(r.POST.get("owner", ""), "owner")
        ),
        gettext_lazy("Task added."),
    ),
    "progress": (
        lambda r, p: actions.report_progress(
            r.user,
            _task(r, p),
            progress=_int(r.POST.get("progress"), "progress"),
            note=r.POST.get("note", ""),
            photo=r.FILES.get("photo"),
        ),
        gettext_lazy("Progress recorded."),
    ),
    "report": (
        lambda r, p: actions.publish_report(r.user, p, r.POST.get("report", "")),
        gettext_lazy("Public report published."),
    ),
    "evaluate": (
        lambda r, p: actions.evaluate(
            r.user,
            p,
            rating=_int(r.POST.get("rating"), "rating"),
            comment_text=r.POST.get("comment", ""),
        ),
        gettext_lazy("Thank you for your evaluation."),
    ),
    "close": (lambda r, p: actions.close_proposal(r.user, p), gettext_lazy("Proposal closed.")),
}


@require_POST
@requires(rules.may_take_part)
def proposal_act(request: AuthedRequest, proposal_id: int, verb: str) -> HttpResponse:
    p = queries.proposals_for(request.user).filter(pk=proposal_id).first()
    if p is None or verb not in VERBS:
        raise Http404
    work, done = VERBS[verb]
    run(request, lambda: work(request, p), str(done))
    return redirect("commons:proposal", proposal_id=p.pk)
