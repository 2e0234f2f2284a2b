"""What each person may read: one scoped queryset per kind, shared by the API and the pages.

Public life of a community (filed organisations, proposals, activities, residents' courses,
help posts) is visible to its residents; everything in a jurisdiction is visible to its
readers (`rules.READER_ROLES`); one's own drafts and posts are always visible. Anything else
answers 404.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet

from renzhi.commons import rules
from renzhi.commons.models import (
    Activity,
    Course,
    Enrolment,
    HelpPost,
    Organisation,
    OrgStatus,
    Proposal,
    Residence,
)
from renzhi.core import scope
from renzhi.core.models import Role, User

PUBLIC_ORG_STATUSES = [
    OrgStatus.FILED,
    OrgStatus.APPROVED,
    OrgStatus.SUSPENDED,
    OrgStatus.DISSOLVED,
]


def _staff_q(user: User, field: str = "community") -> Q | None:
    return scope.scope_filter(user, place_field=field, roles_allowed=rules.READER_ROLES)


def _scoped(user: User, qs: QuerySet, public: Q, own: Q, field: str = "community") -> QuerySet:
    staff = _staff_q(user, field)
    if staff is None:
        return qs
    return qs.filter(public | own | staff).distinct()


def _homes(user: User, field: str = "community") -> Q:
    return Q(**{f"{field}_id__in": rules.home_community_ids(user)})


def organisations_for(user: User) -> QuerySet[Organisation]:
    return _scoped(
        user,
        Organisation.objects.select_related("community", "leader"),
        _homes(user) & Q(status__in=PUBLIC_ORG_STATUSES),
        Q(created_by=user) | Q(leader=user) | Q(members__user=user),
    )


def proposals_for(user: User) -> QuerySet[Proposal]:
    return _scoped(
        user,
        Proposal.objects.select_related("community", "organisation", "author"),
        _homes(user),
        Q(author=user),
    )


def activities_for(user: User) -> QuerySet[Activity]:
    return _scoped(
        user,
        Activity.objects.select_related("community", "organisation"),
        _homes(user),
        Q(created_by=user) | Q(signups__user=user),
    )


def courses_for(user: User) -> QuerySet[Course]:
    enrolled = Enrolment.objects.filter(user=user).values("course")
    return _scoped(
        user,
        Course.objects.select_related("community", "skill"),
        _homes(user) & Q(for_staff=False),
        Q(pk__in=enrolled),
    )


def help_for(user: User) -> QuerySet[HelpPost]:
    return _scoped(
        user,
        HelpPost.objects.select_related("community", "author", "partner"),
        _homes(user),
        Q(author=user) | Q(partner=user),
    )


def residences_for(user: User) -> QuerySet[Residence]:
    """Household records: one's own, and those of the community staff's jurisdiction."""
    staff = scope.scope_filter(
        user, place_field="community", roles_allowed={Role.COMMUNITY_STAFF, Role.ADMIN}
    )
    qs = Residence.objects.select_related("community", "user")
    if staff is None:
        return qs
    return qs.filter(Q(user=user) | staff)
