"""Proposals, discussion, votes, resolutions, implementation and evaluation (see api.py)."""

from typing import Annotated

from django.utils.translation import gettext as _
from ninja import File, Form, Router
from ninja.files import UploadedFile
from ninja.pagination import paginate

from renzhi.commons import present, queries
from renzhi.commons.actions import proposals as actions
from renzhi.commons.actions import votes
from renzhi.commons.models import Comment, ImplementationTask, ProposalOption, Vote
from renzhi.commons.schemas import (
    BodyIn,
    CastIn,
    CastOut,
    CommentIn,
    EvaluationIn,
    OptionIn,
    ProposalDetailOut,
    ProposalIn,
    ProposalOut,
    ReasonIn,
    ReportIn,
    ResolutionIn,
    TaskIn,
    VoteIn,
)
from renzhi.core.errors import ActionError, ErrorCode
from renzhi.core.http import AuthedRequest
from renzhi.core.pagination import Page
from renzhi.core.text import NOTE, QueryText

router = Router()


def _api():
    from renzhi.commons import api

    return api


def _proposal(request: AuthedRequest, proposal_id: int):
    return _api().get_visible(queries.proposals_for(request.auth), proposal_id, "proposal")


def _detail(request: AuthedRequest, proposal_id: int) -> dict:
    return present.proposal_detail(_proposal(request, proposal_id), request.auth)


def _vote(request: AuthedRequest, proposal_id: int) -> Vote:
    vote = Vote.objects.filter(proposal=_proposal(request, proposal_id)).first()
    if vote is None:
        raise ActionError(
            _("This proposal has no vote yet."), field="vote", code=ErrorCode.INVALID_STATE
        )
    return vote


@router.get("/proposals", response=list[ProposalOut], summary="Proposals I may see")
@paginate(Page)
def list_proposals(
    request: AuthedRequest, phase: QueryText | None = None, community: QueryText | None = None
):
    qs = queries.proposals_for(request.auth).order_by("-created_at", "-id")
    if phase:
        qs = qs.filter(phase=phase)
    if community:
        qs = qs.filter(community__code=community)
    return [present.proposal(p) for p in qs]


@router.post("/proposals", response={201: ProposalDetailOut}, summary="Raise a proposal (征集议题)")
def create_proposal(request: AuthedRequest, data: ProposalIn):
    api = _api()
    organisation = None
    if data.organisation_id is not None:
        organisation = api.get_visible(
            queries.organisations_for(request.auth), data.organisation_id, "organisation_id"
        )
    p = actions.raise_proposal(
        request.auth,
        community=api.place_by_code(data.community_code),
        title=data.title,
        body=data.body,
        organisation=organisation,
        source=data.source,
        source_ref=data.source_ref,
        building=data.building,
    )
    return 201, present.proposal_detail(p, request.auth)


@router.get("/proposals/{proposal_id}", response=ProposalDetailOut, summary="One proposal")
def get_proposal(request: AuthedRequest, proposal_id: int):
    return _detail(request, proposal_id)


def _verb(path: str, summary: str):
    return router.post(
        f"/proposals/{{proposal_id}}/{path}", response=ProposalDetailOut, summary=summary
    )


@_verb("support", "Support (verified residents, once)")
def support(request: AuthedRequest, proposal_id: int):
    actions.support(request.auth, _proposal(request, proposal_id))
    return _detail(request, proposal_id)


@_verb("agenda", "Put on the agenda (staff, 确定议题)")
def agenda(request: AuthedRequest, proposal_id: int):
    actions.set_agenda(request.auth, _proposal(request, proposal_id))
    return _detail(request, proposal_id)


@_verb("decline", "Decline with a reason (staff)")
def decline(request: AuthedRequest, proposal_id: int, data: ReasonIn):
    actions.decline(request.auth, _proposal(request, proposal_id), data.reason)
    return _detail(request, proposal_id)


@_verb("discussion", "Open the discussion (staff, 协商讨论)")
def discussion(request: AuthedRequest, proposal_id: int):
    actions.open_discussion(request.auth, _proposal(request, proposal_id))
    return _detail(request, proposal_id)


@_verb("comments", "Comment or reply")
def add_comment(request: AuthedRequest, proposal_id: int, data: CommentIn):
    p = _proposal(request, proposal_id)
    parent = None
    if data.parent_id is not None:
        parent = _api().get_visible(Comment.objects.filter(proposal=p), data.parent_id, "parent_id")
    actions.comment(request.auth, p, data.body, parent)
    return _detail(request, proposal_id)


@_verb("comments/{comment_id}/edit", "Edit one's comment (until someone replies)")
def edit_comment(request: AuthedRequest, proposal_id: int, comment_id: int, data: BodyIn):
    p = _proposal(request, proposal_id)
    row = _api().get_visible(Comment.objects.filter(proposal=p), comment_id, "comment")
    actions.edit_comment(request.auth, row, data.body)
    return _detail(request, proposal_id)


@_verb("comments/{comment_id}/hide", "Hide a comment with a reason (staff)")
def hide_comment(request: AuthedRequest, proposal_id: int, comment_id: int, data: ReasonIn):
    p = _proposal(request, proposal_id)
    row = _api().get_visible(Comment.objects.filter(proposal=p), comment_id, "comment")
    actions.hide_comment(request.auth, row, data.reason)
    return _detail(request, proposal_id)


@_verb("options", "Propose an option (during discussion)")
def add_option(request: AuthedRequest, proposal_id: int, data: OptionIn):
    actions.propose_option(request.auth, _proposal(request, proposal_id), data.label)
    return _detail(request, proposal_id)


@_verb("options/{option_id}/amend", "Amend an option (its proposer or staff)")
def amend_option(request: AuthedRequest, proposal_id: int, option_id: int, data: OptionIn):
    p = _proposal(request, proposal_id)
    option = _api().get_visible(ProposalOption.objects.filter(proposal=p), option_id, "option")
    actions.amend_option(request.auth, option, data.label)
    return _detail(request, proposal_id)


@_verb("vote", "Open the vote (staff)")
def open_vote(request: AuthedRequest, proposal_id: int, data: VoteIn):
    votes.open_vote(
        request.auth,
        _proposal(request, proposal_id),
        method=data.method,
        closes_at=data.closes_at,
        opens_at=data.opens_at,
        options=data.options,
        quorum_rule=data.quorum_rule,
        quorum_percent=data.quorum_percent,
        pass_rule=data.pass_rule,
        by_area=data.by_area,
        allow_change=data.allow_change,
    )
    return _detail(request, proposal_id)


@router.post("/proposals/{proposal_id}/vote/cast", response=CastOut, summary="Cast a secret ballot")
def cast(request: AuthedRequest, proposal_id: int, data: CastIn):
    """The answer carries the receipt (only when changes are allowed): keep it to change."""
    vote = _vote(request, proposal_id)
    behalf = _api().user_by_name(data.on_behalf_of, "on_behalf_of") if data.on_behalf_of else None
    result = votes.cast_vote(
        request.auth,
        vote,
        data.choice,
        receipt=data.receipt,
        on_behalf_of=behalf,
        proxy_note=data.proxy_note,
    )
    return {"receipt": result.receipt, "changed": result.changed}


@_verb("vote/close", "Count the vote after its window (staff)")
def close(request: AuthedRequest, proposal_id: int):
    votes.close_vote(request.auth, _vote(request, proposal_id))
    return _detail(request, proposal_id)


@_verb("resolution", "Record the resolution (staff, 形成决议)")
def resolution(request: AuthedRequest, proposal_id: int, data: ResolutionIn):
    actions.record_resolution(request.auth, _proposal(request, proposal_id), data.resolution)
    return _detail(request, proposal_id)


@_verb("tasks", "Add an implementation task (staff, 组织实施)")
def add_task(request: AuthedRequest, proposal_id: int, data: TaskIn):
    owner = _api().user_by_name(data.owner_username, "owner_username")
    actions.add_task(
        request.auth,
        _proposal(request, proposal_id),
        title=data.title,
        owner=owner,
        due_on=data.due_on,
    )
    return _detail(request, proposal_id)


@_verb("tasks/{task_id}/progress", "Report progress with an optional photo (owner or staff)")
def progress(
    request: AuthedRequest,
    proposal_id: int,
    task_id: int,
    progress: Form[int],
    note: Form[Annotated[str, NOTE]] = "",
    photo: File[UploadedFile] | None = None,
):
    p = _proposal(request, proposal_id)
    task = _api().get_visible(ImplementationTask.objects.filter(proposal=p), task_id, "task")
    actions.report_progress(request.auth, task, progress=progress, note=note, photo=photo)
    return _detail(request, proposal_id)


@_verb("report", "Publish the public report (staff, 公示评估)")
def report(request: AuthedRequest, proposal_id: int, data: ReportIn):
    actions.publish_report(request.auth, _proposal(request, proposal_id), data.report)
    return _detail(request, proposal_id)


@_verb("evaluations", "Evaluate the result (residents, once)")
def evaluate(request: AuthedRequest, proposal_id: int, data: EvaluationIn):
    actions.evaluate(
        request.auth, _proposal(request, proposal_id), rating=data.rating, comment_text=data.comment
    )
    return _detail(request, proposal_id)


@_verb("close", "Close the proposal (staff)")
def close_proposal(request: AuthedRequest, proposal_id: int):
    actions.close_proposal(request.auth, _proposal(request, proposal_id))
    return _detail(request, proposal_id)
