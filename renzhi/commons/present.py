"""Rows as the API and the pages show them: labels resolved, people by display name, no raw ids
of other people."""

from __future__ import annotations

from django.db.models import Avg, Count
from django.urls import reverse

from renzhi.commons.models import (
    Activity,
    Course,
    HelpPost,
    Organisation,
    Participation,
    Proposal,
    Residence,
    Signup,
    Support,
    Vote,
)
from renzhi.core.models import User


def name_of(user: User | None) -> str:
    if user is None:
        return ""
    return user.display_name or user.username


def organisation(org: Organisation) -> dict:
    return {
        "id": org.pk,
        "name": org.name,
        "kind": org.kind,
        "kind_label": org.get_kind_display(),
        "status": org.status,
        "status_label": org.get_status_display(),
        "community_code": org.community.code,
        "community_name": org.community.name,
        "purpose": org.purpose,
        "activity_area": org.activity_area,
        "leader": name_of(org.leader),
        "filing_no": org.filing_no,
        "decision_reason": org.decision_reason,
        "needs_approval": org.needs_approval,
        "created_at": org.created_at,
    }


def organisation_detail(org: Organisation) -> dict:
    return {
        **organisation(org),
        "members": [
            {"id": m.pk, "name": m.name, "duty": m.duty, "active": m.left_on is None}
            for m in org.members.all()
        ],
        "events": list(
            org.events.values("verb", "from_status", "to_status", "note", "at").order_by("at", "id")
        ),
        "annual_reports": list(
            org.annual_reports.values("year", "summary", "members_count", "activities_count")
        ),
    }


def residence(row: Residence) -> dict:
    return {
        "id": row.pk,
        "username": row.user.username,
        "display_name": name_of(row.user),
        "community_code": row.community.code,
        "building": row.building,
        "room": row.room,
        "area_m2": row.area_m2,
        "verified": row.verified,
    }


def proposal(p: Proposal) -> dict:
    return {
        "id": p.pk,
        "title": p.title,
        "body": p.body,
        "phase": p.phase,
        "phase_label": p.get_phase_display(),
        "origin": p.origin,
        "origin_label": p.get_origin_display(),
        "community_code": p.community.code,
        "community_name": p.community.name,
        "organisation_id": p.organisation_id,
        "organisation_name": p.organisation.name if p.organisation else "",
        "source_ref": p.source_ref,
        "supports_count": p.supports_count,
        "support_threshold": p.support_threshold,
        "created_at": p.created_at,
    }


def vote(v: Vote, viewer: User) -> dict:
    return {
        "id": v.pk,
        "method": v.method,
        "status": v.status,
        "opens_at": v.opens_at,
        "closes_at": v.closes_at,
        "quorum_rule": v.quorum_rule,
        "quorum_percent": v.quorum_percent,
        "pass_rule": v.pass_rule,
        "by_area": v.by_area,
        "allow_change": v.allow_change,
        "electorate_size": v.electorate_size,
        "ballots_cast": v.ballots_cast,
        "options": [{"position": o.position, "label": o.label} for o in v.options.all()],
        # Counts are published only after the close: no running tally sways late voters.
        "result": v.result if v.status == "closed" else None,
        "passed": v.passed,
        "i_voted": Participation.objects.filter(vote=v, voter=viewer).exists(),
    }


def proposal_detail(p: Proposal, viewer: User) -> dict:
    v = Vote.objects.filter(proposal=p).first()
    scores = p.evaluations.aggregate(n=Count("id"), mean=Avg("rating"))
    return {
        **proposal(p),
        "resolution": p.resolution,
        "public_report": p.public_report,
        "decline_reason": p.decline_reason,
        "i_supported": Support.objects.filter(proposal=p, user=viewer).exists(),
        "options": [
            {"id": o.pk, "label": o.label, "amended": o.amended_at is not None}
            for o in p.options.filter(withdrawn=False)
        ],
        "comments": [
            {
                "id": c.pk,
                "parent_id": c.parent_id,
                "author": name_of(c.author),
                "body": "" if c.hidden_reason else c.body,
                "hidden_reason": c.hidden_reason,
                "edited": c.edited_at is not None,
                "created_at": c.created_at,
            }
            for c in p.comments.select_related("author")
        ],
        "vote": vote(v, viewer) if v else None,
        "tasks": [
            {
                "id": t.pk,
                "title": t.title,
                "owner": name_of(t.owner),
                "progress": t.progress,
                "done": t.done_at is not None,
                "updates": [
                    {
                        "progress": u.progress,
                        "note": u.note,
                        "photo": reverse("commons:progress_photo", args=[p.pk, u.pk])
                        if u.photo
                        else "",
                        "at": u.at,
                    }
                    for u in t.updates.all()
                ],
            }
            for t in p.tasks.select_related("owner")
        ],
        "evaluations": {"count": scores["n"], "mean": round(scores["mean"] or 0, 2)},
    }


def activity(a: Activity, viewer: User) -> dict:
    mine = Signup.objects.filter(activity=a, user=viewer).values_list("status", flat=True).first()
    return {
        "id": a.pk,
        "title": a.title,
        "kind": a.kind,
        "kind_label": a.get_kind_display(),
        "status": a.status,
        "community_code": a.community.code,
        "organisation_name": a.organisation.name if a.organisation else "",
        "location": a.location,
        "starts_at": a.starts_at,
        "ends_at": a.ends_at,
        "capacity": a.capacity,
        "confirmed_count": a.confirmed_count,
        "waiting_list": a.waiting_list,
        "volunteer_hours": a.volunteer_hours,
        "my_status": mine or "",
    }


def course(c: Course, viewer: User) -> dict:
    return {
        "id": c.pk,
        "title": c.title,
        "topic": c.topic,
        "topic_label": c.get_topic_display(),
        "community_code": c.community.code,
        "skill_code": c.skill.code if c.skill else None,
        "for_staff": c.for_staff,
        "pass_score": c.pass_score,
        "sessions": [
            {"id": s.pk, "starts_at": s.starts_at, "ends_at": s.ends_at, "location": s.location}
            for s in c.sessions.all()
        ],
        "enrolled": c.enrolments.filter(user=viewer).exists(),
    }


def help_post(h: HelpPost) -> dict:
    return {
        "id": h.pk,
        "kind": h.kind,
        "category": h.category,
        "category_label": h.get_category_display(),
        "title": h.title,
        "description": h.description,
        "hours": h.hours,
        "status": h.status,
        "author": name_of(h.author),
        "partner": name_of(h.partner),
        "community_code": h.community.code,
    }
