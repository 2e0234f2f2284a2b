"""Incident-side pages: incidents (list, new, detail with live log, map and level controls), the
task board and task pages, plans, shelters, the review and the leader dashboard.

Views stay thin: they read through `queries_incidents` (anything outside the scope is a 404),
call one action per POST, and put its field-named errors back on the form.
"""

from __future__ import annotations

import datetime as dt
import json

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import Http404, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from renzhi.core import scope, uploads
from renzhi.core.errors import ActionError
from renzhi.core.http import AuthedRequest
from renzhi.core.models import Membership, Place, Role, Unit, User
from renzhi.core.text import posted_text
from renzhi.emergency import dashboard, reviews, rules
from renzhi.emergency.actions import incidents as incident_actions
from renzhi.emergency.actions import plans as plan_actions
from renzhi.emergency.actions import reviews as review_actions
from renzhi.emergency.actions import shelters as shelter_actions
from renzhi.emergency.actions import tasks as task_actions
from renzhi.emergency.actions.incidents import NEXT_STATUSES
from renzhi.emergency.forms_incidents import (
    CancelForm,
    ChangeForm,
    CheckInForm,
    IncidentForm,
    LevelForm,
    LogForm,
    PlanForm,
    ReportForm,
    ReviewForm,
    ShelterForm,
    StatusForm,
    TaskForm,
)
from renzhi.emergency.models import (
    ROMAN,
    Incident,
    IncidentStatus,
    PlanVersion,
    Review,
    ShelterStay,
    Task,
    TaskStatus,
)
from renzhi.emergency.queries_incidents import incidents_for, plans_for, shelters_for, tasks_for
from renzhi.emergency.shelters import facility_labels
from renzhi.emergency.warning_link import prefill_from_warning
from renzhi.web.access import requires

CHANGE_ROWS = 3


def warnings_for(user):
    """Warnings the user may link: the warning app's own scope."""
    from renzhi.warning.queries import visible_warnings

    return visible_warnings(user)


# --- Incidents --------------------------------------------------------------------------------


@requires(rules.may_view_incidents)
def incident_list(request: AuthedRequest) -> HttpResponse:
    status = request.GET.get("status", "")
    qs = incidents_for(request.user).prefetch_related("activations")
    if status == "active":
        qs = qs.exclude(status=IncidentStatus.CLOSED)
    elif status in IncidentStatus.values:
        qs = qs.filter(status=status)
    rows: list[dict] = []
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    shown = list(page.object_list)
    for incident in shown:
        current = next((a for a in incident.activations.all() if a.ended_at is None), None)
        rows.append(
            {
                "incident": incident,
                "level": current.roman if current else "",
                "level_num": current.level if current else None,
            }
        )
    points = [
        {
            "lat": i.lat if i.lat is not None else i.place.centre_lat,
            "lng": i.lng if i.lng is not None else i.place.centre_lng,
            "title": i.title,
            "severity": i.severity,
            "url": reverse("emergency:incident", args=[i.pk]),
        }
        for i in shown
        if not i.is_closed and (i.lat is not None or i.place.centre_lat is not None)
    ]
    return render(
        request,
        "emergency/incident_list.html",
        {
            "points": points,
            "rows": rows,
            "page": page,
            "query": f"status={status}" if status else "",
            "status": status,
            "statuses": IncidentStatus.choices,
            "can_report": rules.may_report_incident(request.user),
        },
    )


@requires(rules.may_report_incident)
def incident_new(request: AuthedRequest) -> HttpResponse:
    """`?warning=<id>` pre-fills from a warning and links it (a red/orange one offers the
    one-click activation); `?hot_issue=<id>` pre-fills the description, ignored if unknown."""
    user = request.user
    places = _places_for(user, rules.INCIDENT_REPORTERS)
    initial: dict = {"started_at": timezone.localtime().replace(second=0, microsecond=0)}
    warning = _warning(user, request.GET.get("warning") or request.POST.get("warning"))
    one_click = None
    if warning is not None:
        data = prefill_from_warning(warning)
        initial.update(
            title=data["title"],
            kind=data["kind"],
            severity=data["severity"],
            place=data["place"].code,
            places=[p.code for p in data["places"]],
            description=data["description"],
            warning=warning.pk,
        )
        if warning.level in (1, 2):
            one_click = {"warning": warning, "level": ROMAN[warning.level]}
    hot = _hot_issue(user, request.GET.get("hot_issue") or request.POST.get("hot_issue"))
    if hot:
        initial.update(description=hot["description"], hot_issue=hot["id"])
        initial.setdefault("title", hot["title"])
        if hot["place"] and any(p.code == hot["place"] for p in places):
            initial.setdefault("place", hot["place"])
    form = IncidentForm(request.POST or None, places=places, initial=initial)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        by_code = {p.code: p for p in places}
        try:
            incident = incident_actions.report(
                user,
                title=d["title"],
                kind=d["kind"],
                place=by_code.get(d["place"]),
                places=[by_code[c] for c in d["places"] if c in by_code],
                severity=d["severity"],
                description=d["description"],
                started_at=d["started_at"],
                warnings=[warning] if warning is not None else [],
                appeals=_hot_issue_appeals(user, hot),
                lat=hot["lat"] if hot else None,
                lng=hot["lng"] if hot else None,
                hot_issue_ref=d.get("hot_issue") or "",
            )
        except ActionError as exc:
            _attach(form, exc)
        else:
            messages.success(request, _("Incident reported."))
            return redirect("emergency:incident", pk=incident.pk)
    return render(
        request,
        "emergency/incident_new.html",
        {"form": form, "warning": warning, "one_click": one_click},
    )


@require_POST
@requires(rules.may_view_incidents)
def warning_activate(request: AuthedRequest, warning_id: int) -> HttpResponse:
    warning = _warning(request.user, str(warning_id))
    if warning is None:
        raise Http404
    try:
        activation = plan_actions.activate_from_warning(request.user, warning)
    except ActionError as exc:
        _flash(request, exc)
        return redirect(f"{reverse('emergency:incident_new')}?warning={warning.pk}")
    messages.success(
        request, _("Incident opened and level %(r)s response activated.") % {"r": activation.roman}
    )
    return redirect("emergency:incident", pk=activation.incident_id)


@requires(rules.may_view_incidents)
def incident_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    incident = _incident(request, pk)
    user = request.user
    current = incident.current_activation()
    plan = plan_actions.find_plan(incident)
    tasks = incident.tasks.all()
    counts = {s: 0 for s in TaskStatus.values}
    for row in tasks.values("status").annotate(n=Count("id")):
        counts[row["status"]] = row["n"]
    now = timezone.now()
    statuses = [(s, IncidentStatus(s).label) for s in NEXT_STATUSES[incident.status]]
    status_form = StatusForm()
    status_form.fields["status"].choices = statuses  # type: ignore[attr-defined]
    review = Review.objects.filter(incident=incident).first()
    return render(
        request,
        "emergency/incident_detail.html",
        {
            "incident": incident,
            "places": list(incident.places.all()),
            "current": current,
            "activations": list(incident.activations.select_related("version__plan", "started_by")),
            "plan": plan,
            "plan_version": plan.version_in_force() if plan else None,
            "log": reviews.log_of(incident, 100),
            "warnings": list(incident.warnings.all()),
            "appeals": list(incident.appeals.all()[:20]),
            "task_counts": counts,
            "overdue": tasks.filter(
                status__in=("open", "accepted", "in_progress"), deadline__lt=now
            ).count(),
            "can_run": rules.may_run(user, incident),
            "can_activate": rules.may_activate(user, incident) and not incident.is_closed,
            "can_review": rules.may_review(user, incident) and incident.is_closed,
            "review": review,
            "status_form": status_form if statuses else None,
            "level_form": LevelForm(initial={"level": incident.severity}),
            "log_form": LogForm(),
            "map_data": _map_data(incident),
            "resources": _resources_of(user, incident),
            "linkable_warnings": list(
                warnings_for(user).exclude(pk__in=[w.pk for w in incident.warnings.all()])[:20]
            )
            if rules.may_run(user, incident)
            else [],
        },
    )


@requires(rules.may_view_incidents)
def incident_log(request: AuthedRequest, pk: int) -> HttpResponse:
    """The live log as a fragment; the incident page polls it (htmx) every 15 seconds."""
    incident = _incident(request, pk)
    return render(request, "emergency/incident_log.html", {"log": reviews.log_of(incident, 100)})


@require_POST
@requires(rules.may_view_incidents)
def incident_step(request: AuthedRequest, pk: int, step: str) -> HttpResponse:
    incident = _incident(request, pk)
    user = request.user
    post = request.POST
    try:
        if step == "status":
            incident_actions.change_status(
                user, incident, post.get("status", ""), note=post.get("note", "")
            )
            messages.success(request, _("Status changed."))
        elif step == "log":
            incident_actions.add_log(user, incident, post.get("text", ""))
        elif step == "activate":
            a = plan_actions.activate(user, incident, post.get("level"), note=post.get("note", ""))
            messages.success(
                request,
                _("Level %(r)s response activated: %(n)d tasks assigned.")
                % {"r": a.roman, "n": a.tasks.count()},
            )
        elif step == "level":
            a = plan_actions.change_level(
                user, incident, post.get("level"), note=post.get("note", "")
            )
            messages.success(request, _("Response level is now %(r)s.") % {"r": a.roman})
        elif step == "deactivate":
            plan_actions.deactivate(user, incident, note=post.get("note", ""))
            messages.success(request, _("Response level lifted."))
        elif step == "link-appeal":
            from renzhi.appeals.queries import appeals_for

            number = post.get("tracking_no", "").strip()
            appeal = appeals_for(user).filter(tracking_no=number).first() if number else None
            if appeal is None:
                raise ActionError(_("No appeal with this number in your jurisdiction."))
            incident_actions.link_appeal(user, incident, appeal)
            messages.success(request, _("Appeal linked."))
        elif step == "link-warning":
            warning = _warning(user, post.get("warning"))
            if warning is None:
                raise ActionError(_("Choose a warning."))
            incident_actions.link_warning(user, incident, warning)
            messages.success(request, _("Warning linked."))
        else:
            raise Http404
    except ActionError as exc:
        _flash(request, exc)
    return redirect("emergency:incident", pk=pk)


# --- Tasks ------------------------------------------------------------------------------------


@requires(rules.may_view_incidents)
def incident_board(request: AuthedRequest, pk: int) -> HttpResponse:
    incident = _incident(request, pk)
    user = request.user
    can_manage = rules.may_manage_tasks(user, incident) and not incident.is_closed
    form = None
    if can_manage:
        people, teams, units = _assignable(incident)
        form = TaskForm(
            request.POST or None,
            people=people,
            teams=teams,
            units=units,
            initial={"deadline": timezone.localtime() + dt.timedelta(hours=2)},
        )
        if request.method == "POST" and form.is_valid():
            d = form.cleaned_data
            try:
                task_actions.create_task(
                    user,
                    incident,
                    title=d["title"],
                    deadline=d["deadline"],
                    description=d["description"],
                    assignee=next((p for p in people if str(p.pk) == d["assignee"]), None),
                    team=next((t for t in teams if str(t.pk) == d["team"]), None),
                    unit=next((u for u in units if str(u.pk) == d["unit"]), None),
                )
            except ActionError as exc:
                _attach(form, exc)
            else:
                messages.success(request, _("Task created."))
                return redirect("emergency:board", pk=pk)
    elif request.method == "POST":
        raise Http404
    now = timezone.now()
    columns = []
    tasks = list(incident.tasks.select_related("assignee", "unit", "team").order_by("deadline"))
    for status, label in TaskStatus.choices:
        cards = [
            {"task": t, "overdue": t.is_open and t.deadline < now, "who": _who(t)}
            for t in tasks
            if t.status == status
        ]
        columns.append({"status": status, "label": label, "cards": cards})
    return render(
        request,
        "emergency/task_board.html",
        {"incident": incident, "columns": columns, "form": form},
    )


@requires(rules.may_view_my_tasks)
def my_tasks(request: AuthedRequest) -> HttpResponse:
    user = request.user
    units = [m.unit_id for m in scope.memberships(user) if m.role == Role.UNIT_HANDLER]
    qs = (
        tasks_for(user)
        .filter(Q(assignee=user) | Q(unit_id__in=units) | Q(team__members=user))
        .select_related("incident", "unit", "team")
        .distinct()
        .order_by("status", "deadline")
    )
    now = timezone.now()
    rows = [
        {"task": t, "overdue": t.is_open and t.deadline < now, "who": _who(t)} for t in qs[:200]
    ]
    return render(request, "emergency/task_mine.html", {"rows": rows})


@requires(rules.may_view_my_tasks)
def task_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    task = tasks_for(request.user).filter(pk=pk).select_related("team").first()
    if task is None:
        raise Http404
    user = request.user
    can_work = rules.may_work_task(user, task) and task.is_open
    form = ReportForm(request.POST or None, request.FILES or None) if can_work else None
    if request.method == "POST":
        step = request.POST.get("step", "report")
        try:
            if step == "accept":
                task_actions.accept(user, task)
                messages.success(request, _("Task accepted."))
                return redirect("emergency:task", pk=pk)
            if step == "cancel":
                task_actions.cancel(
                    user, task, reason=posted_text(request.POST, "reason", max_length=200)
                )
                messages.success(request, _("Task cancelled."))
                return redirect("emergency:task", pk=pk)
            if step == "assign" and rules.may_manage_tasks(user, task.incident):
                people, teams, units = _assignable(task.incident)
                who = posted_text(request.POST, "who", max_length=30)
                kind, _sep, key = who.partition(":")
                task_actions.assign(
                    user,
                    task,
                    assignee=next((p for p in people if kind == "u" and str(p.pk) == key), None),
                    team=next((t for t in teams if kind == "t" and str(t.pk) == key), None),
                    unit=next((x for x in units if kind == "n" and str(x.pk) == key), None),
                )
                messages.success(request, _("Task reassigned."))
                return redirect("emergency:task", pk=pk)
            if form is not None and form.is_valid():
                d = form.cleaned_data
                task_actions.report(
                    user,
                    task,
                    note=d["note"],
                    lat=d["lat"],
                    lng=d["lng"],
                    photo=d["photo"],
                    done=d["done"],
                )
                messages.success(request, _("Report saved."))
                return redirect("emergency:task", pk=pk)
        except ActionError as exc:
            if form is not None and step == "report":
                _attach(form, exc)
            else:
                _flash(request, exc)
    can_manage = rules.may_manage_tasks(user, task.incident) and task.is_open
    choices: list[tuple[str, str]] = []
    if can_manage:
        people, teams, units = _assignable(task.incident)
        choices = (
            [(f"u:{p.pk}", p.display_name or p.username) for p in people]
            + [(f"t:{t.pk}", t.name) for t in teams]
            + [(f"n:{x.pk}", x.name) for x in units]
        )
    return render(
        request,
        "emergency/task_detail.html",
        {
            "assign_choices": choices,
            "task": task,
            "who": _who(task),
            "overdue": task.is_open and task.deadline < timezone.now(),
            "reports": list(task.reports.select_related("author")),
            "form": form,
            "can_accept": can_work and task.status == TaskStatus.OPEN,
            "can_cancel": can_manage,
            "cancel_form": CancelForm(),
        },
    )


@requires(rules.may_view_my_tasks)
def task_report_photo(request: AuthedRequest, pk: int, report_id: int) -> HttpResponseBase:
    """The photo of a check-in report, to those who may see its task (never from /media/)."""
    task = tasks_for(request.user).filter(pk=pk).first()
    if task is None:
        raise Http404
    report = task.reports.filter(pk=report_id).first()
    if report is None or not report.photo:
        raise Http404
    return uploads.serve(request, report.photo, download_name=f"task-{task.pk}-{report.pk}")


# --- Plans ------------------------------------------------------------------------------------


@requires(rules.may_view_plans)
def plan_list(request: AuthedRequest) -> HttpResponse:
    plans = list(plans_for(request.user).prefetch_related("versions"))
    rows = [
        {"plan": p, "version": p.version_in_force(), "count": p.versions.count()} for p in plans
    ]
    return render(
        request,
        "emergency/plan_list.html",
        {"rows": rows, "can_write": scope.has_role(request.user, *rules.PLAN_WRITERS)},
    )


@requires(rules.may_view_plans)
def plan_new(request: AuthedRequest) -> HttpResponse:
    places = _places_for(request.user, rules.PLAN_WRITERS)
    if not places:
        raise Http404
    form = PlanForm(request.POST or None, places=places)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            levels = _level_specs(d)
            plan = plan_actions.create_plan(
                request.user,
                place=next((p for p in places if p.code == d["place"]), None),
                kind=d["kind"],
                title=d["title"],
                levels=levels,
                note=d["note"],
            )
        except ActionError as exc:
            _attach(form, exc)
        else:
            messages.success(request, _("Plan saved as version 1."))
            return redirect("emergency:plan", pk=plan.pk)
    return render(
        request, "emergency/plan_form.html", {"form": form, "plan": None, **_code_lists()}
    )


@requires(rules.may_view_plans)
def plan_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    plan = plans_for(request.user).filter(pk=pk).first()
    if plan is None:
        raise Http404
    versions = list(plan.versions.select_related("created_by", "source_review__incident"))
    in_force = plan.version_in_force()
    wanted = request.GET.get("v")
    shown = next((v for v in versions if str(v.number) == wanted), None) or in_force
    if shown is None and versions:
        shown = versions[0]
    items, skills = _code_names()
    levels = [
        {
            "level": lv,
            "actions": list(lv.actions.all()),
            "reserves": [
                (items.get(r.item_code, r.item_code), r.per_thousand) for r in lv.reserves.all()
            ],
            "people": [(skills.get(p.skill_code, p.skill_code), p.count) for p in lv.people.all()],
        }
        for lv in (
            shown.levels.prefetch_related("actions", "reserves", "people").order_by("-level")
            if shown
            else []
        )
    ]
    return render(
        request,
        "emergency/plan_detail.html",
        {
            "plan": plan,
            "versions": versions,
            "in_force": in_force,
            "shown": shown,
            "levels": levels,
            "roles": dict(Role.choices),
            "can_write": rules.may_write_plan(request.user, plan.place),
        },
    )


@requires(rules.may_view_plans)
def plan_edit(request: AuthedRequest, pk: int) -> HttpResponse:
    """Write the next version, starting from the version in force."""
    plan = plans_for(request.user).filter(pk=pk).first()
    if plan is None or not rules.may_write_plan(request.user, plan.place):
        raise Http404
    base = plan.version_in_force() or plan.versions.order_by("-number").first()
    initial = {"title": plan.title, "kind": plan.kind, "place": plan.place.code}
    if base is not None:
        initial.update(_initial_from(base))
    form = PlanForm(request.POST or None, places=[plan.place], existing=True, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            version = plan_actions.save_version(
                request.user, plan, _level_specs(form.cleaned_data), note=form.cleaned_data["note"]
            )
        except ActionError as exc:
            _attach(form, exc)
        else:
            messages.success(request, _("Version %(n)d saved.") % {"n": version.number})
            return redirect("emergency:plan", pk=plan.pk)
    return render(
        request, "emergency/plan_form.html", {"form": form, "plan": plan, **_code_lists()}
    )


# --- Shelters ---------------------------------------------------------------------------------


@requires(rules.may_view_shelters)
def shelter_list(request: AuthedRequest) -> HttpResponse:
    shelters = list(shelters_for(request.user))
    places = _places_for(request.user, rules.SHELTER_MANAGERS)
    form = ShelterForm(request.POST or None, places=places) if places else None
    if request.method == "POST":
        if form is None:
            raise Http404
        if form.is_valid():
            d = form.cleaned_data
            try:
                shelter = shelter_actions.create_shelter(
                    request.user,
                    name=d["name"],
                    place=next((p for p in places if p.code == d["place"]), None),
                    capacity=d["capacity"],
                    address=d["address"],
                    facilities=d["facilities"],
                )
            except ActionError as exc:
                _attach(form, exc)
            else:
                messages.success(request, _("Shelter saved."))
                return redirect("emergency:shelter", pk=shelter.pk)
    rows = [
        {
            "shelter": s,
            "facilities": facility_labels(s.facilities),
            "percent": round(100 * s.occupancy / s.capacity) if s.capacity else 0,
        }
        for s in shelters
    ]
    return render(request, "emergency/shelter_list.html", {"rows": rows, "form": form})


@requires(rules.may_view_shelters)
def shelter_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    shelter = shelters_for(request.user).filter(pk=pk).first()
    if shelter is None:
        raise Http404
    user = request.user
    can_desk = rules.may_staff_shelter(user, shelter)
    form = CheckInForm(request.POST or None) if can_desk else None
    if request.method == "POST":
        if not can_desk:
            raise Http404
        step = request.POST.get("step", "check_in")
        try:
            if step == "check_out":
                stay = ShelterStay.objects.filter(
                    shelter=shelter, pk=_pk(request.POST.get("stay"))
                ).first()
                if stay is None:
                    raise Http404
                shelter_actions.check_out(user, stay)
                messages.success(request, _("Checked out."))
                return redirect("emergency:shelter", pk=pk)
            if step == "toggle":
                shelter_actions.set_open(user, shelter, not shelter.is_open)
                return redirect("emergency:shelter", pk=pk)
            if form is not None and form.is_valid():
                d = form.cleaned_data
                incident = _incident_covering(user, shelter.place)
                shelter_actions.check_in(
                    user,
                    shelter,
                    name=d["name"],
                    people=d["people"],
                    phone=d["phone"],
                    incident=incident,
                )
                messages.success(request, _("Checked in."))
                return redirect("emergency:shelter", pk=pk)
        except ActionError as exc:
            if form is not None and step == "check_in":
                _attach(form, exc)
            else:
                _flash(request, exc)
    from renzhi.core.privacy import mask_phone

    stays = [
        {"stay": s, "phone": mask_phone(s.phone) if s.phone else ""}
        for s in shelter.stays.filter(checked_out_at=None)[:200]
    ]
    return render(
        request,
        "emergency/shelter_detail.html",
        {
            "shelter": shelter,
            "facilities": facility_labels(shelter.facilities),
            "left": shelter.capacity - shelter.occupancy,
            "percent": round(100 * shelter.occupancy / shelter.capacity),
            "stays": stays,
            "form": form,
            "can_manage": rules.may_manage_shelter(user, shelter),
        },
    )


# --- Review -----------------------------------------------------------------------------------


@requires(rules.may_view_incidents)
def review_page(request: AuthedRequest, pk: int) -> HttpResponse:
    incident = _incident(request, pk)
    user = request.user
    review = Review.objects.filter(incident=incident).first()
    can_write = review is None and incident.is_closed and rules.may_review(user, incident)
    plans = list(plans_for(user).filter(kind=incident.kind)) if can_write else []
    form = ReviewForm(request.POST or None) if can_write else None
    changes = [
        ChangeForm(request.POST or None, prefix=f"c{i}", plans=plans) for i in range(CHANGE_ROWS)
    ]
    if request.method == "POST":
        step = request.POST.get("step", "write")
        if step == "apply" and review is not None:
            try:
                versions = review_actions.apply_changes(user, review)
            except ActionError as exc:
                _flash(request, exc)
            else:
                messages.success(
                    request,
                    _("New plan version written: %(v)s")
                    % {"v": ", ".join(f"{v.plan} v{v.number}" for v in versions)},
                )
            return redirect("emergency:review", pk=pk)
        if form is None:
            raise Http404
        if form.is_valid() and all(c.is_valid() for c in changes):
            specs = [
                review_actions.ChangeSpec(
                    next((p for p in plans if str(p.pk) == c.cleaned_data["plan"]), None),
                    c.cleaned_data["level"],
                    c.cleaned_data["change"],
                    c.cleaned_data["target"],
                    c.cleaned_data["role"],
                    c.cleaned_data["quantity"],
                )
                for c in changes
                if c.cleaned_data.get("change")
            ]
            try:
                review_actions.write_review(
                    user,
                    incident,
                    summary=form.cleaned_data["summary"],
                    lessons=form.cleaned_data["lessons"],
                    changes=specs,
                )
            except ActionError as exc:
                _attach(form, exc)
            else:
                messages.success(request, _("Review saved."))
                return redirect("emergency:review", pk=pk)
    figures = review.figures if review else reviews.figures(incident)
    review_changes = (
        list(review.actions.select_related("plan", "applied_version")) if review else []
    )
    items, skills = _code_names()
    for change in review_changes:
        change.target_label = items.get(change.target) or skills.get(change.target) or change.target  # type: ignore[attr-defined]
    return render(
        request,
        "emergency/review.html",
        {
            "incident": incident,
            "review": review,
            "figures": figures,
            "timeline": reviews.timeline(incident),
            "form": form,
            "changes": changes,
            "review_changes": review_changes,
            "can_apply": review is not None
            and any(a.applied_version_id is None for a in review_changes)
            and all(rules.may_apply_to_plan(user, a.plan) for a in review_changes),
            "completion": _percent(figures.get("task_completion")),
            **(_code_lists() if form is not None else {}),
        },
    )


# --- Dashboard --------------------------------------------------------------------------------


@requires(rules.may_view_dashboard)
def dashboard_page(request: AuthedRequest) -> HttpResponse:
    figures = dashboard.figures_for(request.user)
    chart = {
        "labels": [c.place.name for c in figures.coverage],
        "days": [c.days for c in figures.coverage],
        "threshold": dashboard.DAYS_SHORT,
    }
    return render(
        request,
        "emergency/dashboard.html",
        {"figures": figures, "chart": chart, "now": timezone.now()},
    )


# --- Helpers ----------------------------------------------------------------------------------


def _incident(request: AuthedRequest, pk: int) -> Incident:
    incident = incidents_for(request.user).filter(pk=pk).first()
    if incident is None:
        raise Http404
    return incident


def _places_for(user: User, roles) -> list[Place]:
    codes = scope.jurisdiction_codes(user, roles_allowed=roles)
    qs = Place.objects.exclude(level="grid").order_by("code")
    if codes is None:
        return list(qs[:500])
    if not codes:
        return []
    condition = Q(pk__in=[])
    for code in codes:
        condition |= Q(code__startswith=code)
    return list(qs.filter(condition)[:500])


def _warning(user: User, value: str | None):
    if not value or not str(value).isdigit():
        return None
    return warnings_for(user).filter(pk=int(value)).first()


def _hot_issue(user: User, value: str | None) -> dict | None:
    """A hot issue the user may see on the triage page (the triage app's scoped lookup, named
    by RENZHI_HOT_ISSUE_LOOKUP); None for an unknown id or one outside the user's scope."""
    lookup = getattr(settings, "RENZHI_HOT_ISSUE_LOOKUP", "")
    issue = import_string(lookup)(user, value) if lookup else None
    if issue is None:
        return None
    title = str(getattr(issue, "title", "") or "")
    summary = str(getattr(issue, "summary", "") or "")
    count = getattr(issue, "count", None)
    description = summary or (
        _("Hot issue: %(t)s (%(n)s appeals).") % {"t": title, "n": count} if title else ""
    )
    community = getattr(issue, "community", None)
    return {
        "id": str(issue.pk),
        "title": title[:120],
        "description": description,
        "place": community.code if community is not None else "",
        "lat": getattr(issue, "lat", None) if getattr(issue, "lng", None) is not None else None,
        "lng": getattr(issue, "lng", None) if getattr(issue, "lat", None) is not None else None,
        "appeal_ids": list(issue.appeals.values_list("pk", flat=True)[:100])
        if hasattr(issue, "appeals")
        else [],
    }


def _hot_issue_appeals(user: User, hot: dict | None) -> list:
    """The hot issue's appeals the user may see; they are linked to the new incident."""
    if not hot or not hot["appeal_ids"]:
        return []
    from renzhi.appeals.queries import appeals_for

    return list(appeals_for(user).filter(pk__in=hot["appeal_ids"]))


def _incident_covering(user: User, place: Place) -> Incident | None:
    ancestors = [place.code[:n] for n in (6, 9, 12) if n <= len(place.code)]
    return (
        incidents_for(user)
        .exclude(status=IncidentStatus.CLOSED)
        .filter(Q(places__code__in=ancestors) | Q(place__code__in=ancestors))
        .order_by("-started_at")
        .first()
    )


def _assignable(incident: Incident):
    code = incident.place.code
    prefixes = [code[:n] for n in (6, 9, 12, 15) if n <= len(code)]
    members = (
        Membership.objects.filter(Q(place__code__startswith=code) | Q(place__code__in=prefixes))
        .exclude(role__in=[Role.RESIDENT, Role.ADMIN])
        .select_related("user")
        .order_by("user__username")
    )
    people = list({m.user.pk: m.user for m in members if m.user.is_active}.values())
    from renzhi.emergency.models import Team

    teams = list(Team.objects.filter(Q(place__code__startswith=code) | Q(place__code__in=prefixes)))
    units = list(Unit.objects.filter(places__code__startswith=code[:9]).distinct().order_by("code"))
    return people, teams, units


def _who(task: Task) -> str:
    if task.assignee is not None:
        return task.assignee.display_name or task.assignee.username
    if task.team is not None:
        return task.team.name
    if task.unit is not None:
        return task.unit.name
    if task.role:
        return _("Unassigned (%(role)s)") % {"role": Role(task.role).label}
    return _("Unassigned")


def _map_data(incident: Incident) -> str:
    features = []
    for place in incident.places.all():
        shape = place.boundary
        if shape:
            features.append(
                {"type": "Feature", "geometry": shape, "properties": {"name": place.name}}
            )
    point = [incident.lat, incident.lng] if incident.lat is not None else None
    return json.dumps({"type": "FeatureCollection", "features": features, "point": point})


def _level_specs(d: dict) -> list[plan_actions.LevelSpec]:
    specs = []
    errors: list = []
    for level, roman in ((4, "IV"), (3, "III"), (2, "II"), (1, "I")):
        try:
            specs.append(
                plan_actions.LevelSpec(
                    level=level,
                    summary=d.get(f"level_{roman}_summary", ""),
                    actions=plan_actions.parse_actions(
                        d.get(f"level_{roman}_actions", ""), f"level_{roman}_actions"
                    ),
                    reserves=plan_actions.parse_reserves(
                        d.get(f"level_{roman}_reserves", ""), f"level_{roman}_reserves"
                    ),
                    people=plan_actions.parse_people(
                        d.get(f"level_{roman}_people", ""), f"level_{roman}_people"
                    ),
                )
            )
        except ActionError as exc:
            errors.extend(exc.errors)
    if errors:
        raise ActionError(errors=errors)
    return specs


def _initial_from(version: PlanVersion) -> dict:
    out = {}
    for spec in plan_actions.level_specs_of(version):
        roman = ROMAN[spec.level]
        out[f"level_{roman}_summary"] = spec.summary
        out[f"level_{roman}_actions"] = "\n".join(
            f"{a.title} | {a.role} | {a.due_hours}" for a in spec.actions
        )
        out[f"level_{roman}_reserves"] = "\n".join(
            f"{c} | {q.normalize()}" for c, q in spec.reserves
        )
        out[f"level_{roman}_people"] = "\n".join(f"{c} | {n}" for c, n in spec.people)
    return out


def _resources_of(user: User, incident: Incident) -> dict:
    """What the resources side recorded for the incident, with links to its pages when the
    user may open them: call-ups by status, vulnerable residents reached, stock moves."""
    from renzhi.emergency import rules_resources
    from renzhi.emergency.models import CallUp, StockMove
    from renzhi.emergency.vulnerable import reach_summary

    callups = dict(
        CallUp.objects.filter(incident=incident)
        .values_list("status")
        .annotate(n=Count("id"))
        .values_list("status", "n")
    )
    reached, total = reach_summary(incident)
    moves = list(
        StockMove.objects.filter(incident=incident)
        .exclude(kind="transfer_in")
        .select_related("item", "depot")
        .order_by("-at")[:5]
    )
    return {
        "called": sum(callups.values()),
        "on_duty": callups.get("checked_in", 0),
        "accepted": callups.get("accepted", 0)
        + callups.get("checked_in", 0)
        + callups.get("checked_out", 0),
        "reached": reached,
        "vulnerable": total,
        "moves": moves,
        "people_url": f"{reverse('emergency:people')}?incident={incident.pk}"
        if rules_resources.may_view_people(user)
        else "",
        "register_url": f"{reverse('emergency:vulnerable')}?incident={incident.pk}"
        if rules_resources.may_view_register(user)
        else "",
        "stock_url": reverse("emergency:stock") if rules_resources.may_view_reserves(user) else "",
    }


def _code_names() -> tuple[dict[str, str], dict[str, str]]:
    """Item and skill names by code, so pages show names rather than codes."""
    from renzhi.core.models import Skill
    from renzhi.emergency.models import Item

    items = {i.code: f"{i.name}（{i.unit}）" for i in Item.objects.all()}
    skills = dict(Skill.objects.values_list("code", "name"))
    return items, skills


def _code_lists() -> dict:
    items, skills = _code_names()
    return {
        "item_codes": sorted(items.items()),
        "skill_codes": sorted(skills.items()),
        "role_codes": [(v, label) for v, label in Role.choices if v in plan_actions.ACTION_ROLES],
    }


def _percent(value) -> int | None:
    return None if value is None else round(100 * value)


def _attach(form, exc: ActionError) -> None:
    for error in exc.errors:
        field = error.field if error.field in form.fields else None
        form.add_error(field, error.message)


def _flash(request: AuthedRequest, exc: ActionError) -> None:
    for error in exc.errors:
        messages.error(request, error.message)


def _pk(value) -> int:
    """A posted row id; 0 (no row) for anything that is not a number."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0
