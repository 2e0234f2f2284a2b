"""Who may open which emergency page and do which incident/plan/task/shelter/review action.

Page rules take a user (they are navigation rules, see `renzhi.web.navigation.Rule`); object
rules take a user and the object and also check the data scope. Actions call the object rules,
pages call both — so a button and the action behind it never disagree. This module imports
nothing from `renzhi.web`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from renzhi.core import scope
from renzhi.core.models import Place, Role

if TYPE_CHECKING:
    from renzhi.emergency.models import Incident, Plan, Shelter, Task

# Roles that read the incident list and boards of their jurisdiction.
INCIDENT_READERS = frozenset(
    {
        Role.LEADER,
        Role.COMMUNITY_STAFF,
        Role.DISPATCHER,
        Role.GRID_WORKER,
        Role.UNIT_HANDLER,
        Role.VOLUNTEER,
        Role.SOCIAL_WORKER,
        Role.ADMIN,
    }
)
# Roles that open an incident and log, verify and move it through its states.
INCIDENT_RUNNERS = frozenset({Role.LEADER, Role.COMMUNITY_STAFF, Role.DISPATCHER})
# Reporting an incident is also open to grid workers (they see it first).
INCIDENT_REPORTERS = INCIDENT_RUNNERS | {Role.GRID_WORKER}
# Response levels are activated, changed and lifted by the leader only (audited).
ACTIVATORS = frozenset({Role.LEADER})
PLAN_READERS = frozenset({Role.LEADER, Role.COMMUNITY_STAFF, Role.DISPATCHER, Role.ADMIN})
PLAN_WRITERS = frozenset({Role.LEADER, Role.COMMUNITY_STAFF, Role.DISPATCHER})
SHELTER_MANAGERS = frozenset({Role.LEADER, Role.COMMUNITY_STAFF, Role.DISPATCHER})
SHELTER_DESK = SHELTER_MANAGERS | {Role.GRID_WORKER, Role.VOLUNTEER, Role.SOCIAL_WORKER}
REVIEWERS = frozenset({Role.LEADER, Role.COMMUNITY_STAFF, Role.DISPATCHER})


# --- Page rules (user only) --------------------------------------------------------------------


def may_view_incidents(user) -> bool:
    return scope.has_role(user, *INCIDENT_READERS)


def may_report_incident(user) -> bool:
    return scope.has_role(user, *INCIDENT_REPORTERS)


def may_view_plans(user) -> bool:
    return scope.has_role(user, *PLAN_READERS)


def may_view_shelters(user) -> bool:
    return scope.has_role(user, *SHELTER_DESK) or scope.is_global_admin(user)


def may_view_dashboard(user) -> bool:
    """The leader dashboard: leaders, and the global administrator."""
    return scope.has_role(user, Role.LEADER) or scope.is_global_admin(user)


def may_view_my_tasks(user) -> bool:
    return scope.has_role(user, *INCIDENT_READERS)


# --- Object rules (user × object, scope included) ---------------------------------------------


def may_run(user, incident: Incident) -> bool:
    return _covers(user, incident.place, INCIDENT_RUNNERS)


def may_activate(user, incident: Incident) -> bool:
    return _covers(user, incident.place, ACTIVATORS)


def may_create_at(user, place: Place, roles=INCIDENT_REPORTERS) -> bool:
    return _covers(user, place, roles)


def may_write_plan(user, plan_place: Place) -> bool:
    return _covers(user, plan_place, PLAN_WRITERS)


def may_manage_tasks(user, incident: Incident) -> bool:
    return may_run(user, incident)


def may_work_task(user, task: Task) -> bool:
    """The assignee (or a member of the assigned team/unit) reports on the task; the staff
    running the incident may too."""
    if user is None or not user.is_authenticated:
        return False
    if task.assignee_id == user.pk:
        return True
    if task.unit_id is not None and any(
        m.role == Role.UNIT_HANDLER and m.unit_id == task.unit_id for m in scope.memberships(user)
    ):
        return True
    team_id = getattr(task, "team_id", None)
    if team_id is not None and _in_team(user, team_id):
        return True
    return may_run(user, task.incident)


def may_manage_shelter(user, shelter: Shelter) -> bool:
    return _covers(user, shelter.place, SHELTER_MANAGERS)


def may_staff_shelter(user, shelter: Shelter) -> bool:
    """The desk: anyone of the desk roles whose jurisdiction contains the shelter or lies
    inside its place (a grid worker or volunteer of the shelter's community)."""
    if _covers(user, shelter.place, SHELTER_DESK):
        return True
    codes = scope.jurisdiction_codes(user, roles_allowed=SHELTER_DESK) or []
    return not scope.is_global_admin(user) and any(c.startswith(shelter.place.code) for c in codes)


def may_review(user, incident: Incident) -> bool:
    return _covers(user, incident.place, REVIEWERS)


def may_apply_to_plan(user, plan: Plan) -> bool:
    return may_write_plan(user, plan.place)


def _covers(user, place: Place, roles) -> bool:
    if user is None or not user.is_authenticated:
        return False
    if scope.is_global_admin(user):
        return False  # administrators keep the system, they do not run incidents
    return scope.covers(user, place, roles_allowed=roles) and scope.has_role(user, *roles)


def _in_team(user, team_id: int) -> bool:
    from renzhi.emergency.models import Team

    return Team.objects.filter(pk=team_id, members=user).exists()
