"""Pages for reserves, people, call-ups and the vulnerable register.

Views stay thin: they read through the scoped querysets of `reserves`, `rules_resources` and
`vulnerable`, call one action per POST, and put the action's field-named errors back on the
form. Anything outside the viewer's scope answers 404.
"""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import FileResponse, Http404, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from renzhi.core import read_audit
from renzhi.core.errors import ActionError
from renzhi.core.http import AuthedRequest
from renzhi.core.models import Membership, Place, PlaceLevel, Skill, User
from renzhi.core.privacy import mask_phone
from renzhi.core.redirects import local_next
from renzhi.core.skills import total_hours
from renzhi.core.text import posted_text
from renzhi.emergency import forms_resources as forms
from renzhi.emergency import mobilisation, reserves, stock_excel, vulnerable
from renzhi.emergency import rules_resources as rules
from renzhi.emergency.actions import people as people_actions
from renzhi.emergency.actions import reserves as stock_actions
from renzhi.emergency.actions import vulnerable as register_actions
from renzhi.emergency.models import (
    NEEDS,
    CallUp,
    Depot,
    Distribution,
    Item,
    MinimumLevel,
    PersonProfile,
    StockBatch,
    SupplyRequest,
    Team,
    VulnerableCategory,
    VulnerableResident,
)
from renzhi.web.access import requires

# --- Reserves ---------------------------------------------------------------------------------


@requires(rules.may_view_reserves)
def stock_overview(request: AuthedRequest) -> HttpResponse:
    user = request.user
    depots = list(reserves.visible_depots(user).filter(active=True))
    chosen = request.GET.get("depot") or ""
    shown = [d for d in depots if not chosen or d.code == chosen]
    rows = reserves.stock_rows(shown)
    by_depot: dict[int, list] = {}
    for row in rows:
        by_depot.setdefault(row.depot.pk, []).append(row)
    communities = _communities_of(user)
    coverage = reserves.coverage_by_community([c.code for c in communities])
    shortages = [(c, coverage.get(c.code), reserves.shortage_report(None, c)) for c in communities]
    keep = [d for d in depots if rules.may_keep_depot(user, d)]
    form = _move_form(request, keep, depots) if keep else None
    context = {
        "groups": [(d, by_depot.get(d.pk, [])) for d in shown],
        "depots": depots,
        "chosen": chosen,
        "shortages": shortages,
        "form": form,
        "expiring": reserves.expiring_batches(shown, 30)[:20],
        "today": timezone.localdate(),
        "map_data": _depot_map(depots, rows if not chosen else reserves.stock_rows(depots)),
        "may_add_depot": bool(_depot_places(user)),
        "may_manage_items": rules.may_manage_items(user),
        "keep_codes": {d.code for d in keep},
    }
    return render(request, "emergency/stock_overview.html", context)


# --- Depots, items and minimum levels (master data) -------------------------------------------


@requires(rules.may_keep_stock)
def depot_new(request: AuthedRequest) -> HttpResponse:
    user = request.user
    form = forms.DepotForm(request.POST or None, places=_depot_places(user))
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        place = _place_choice(form, d["place"])
        if place is not None:
            try:
                depot = stock_actions.create_depot(
                    user,
                    code=d["code"],
                    name=d["name"],
                    kind=d["kind"],
                    place=place,
                    address=d["address"],
                    lat=d["lat"],
                    lng=d["lng"],
                )
            except ActionError as exc:
                _attach(form, exc)
            else:
                messages.success(request, _("Depot %(name)s added.") % {"name": depot.name})
                return redirect("emergency:depot", code=depot.code)
    places = _depot_places(user)
    context = {"form": form, "depot": None, "picker": _picker(places)}
    return render(request, "emergency/depot_form.html", context)


@requires(rules.may_keep_stock)
def depot_edit(request: AuthedRequest, code: str) -> HttpResponse:
    user = request.user
    depot = get_object_or_404(reserves.visible_depots(user), code=code)
    if not rules.may_keep_depot(user, depot):
        raise PermissionDenied(_("You may not change this depot."))
    initial = {
        "name": depot.name,
        "kind": depot.kind,
        "place": depot.place.code,
        "address": depot.address,
        "lat": depot.lat,
        "lng": depot.lng,
    }
    form = forms.DepotForm(
        request.POST or None, initial=initial, places=_depot_places(user), editing=True
    )
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        place = _place_choice(form, d["place"])
        if place is not None:
            try:
                stock_actions.update_depot(
                    user,
                    depot,
                    name=d["name"],
                    kind=d["kind"],
                    place=place,
                    address=d["address"],
                    lat=d["lat"],
                    lng=d["lng"],
                )
            except ActionError as exc:
                _attach(form, exc)
            else:
                messages.success(request, _("Depot saved."))
                return redirect("emergency:depot", code=depot.code)
    context = {"form": form, "depot": depot, "picker": _picker(_depot_places(user))}
    return render(request, "emergency/depot_form.html", context)


@requires(rules.may_keep_stock)
def depot_minimums(request: AuthedRequest, code: str) -> HttpResponse:
    user = request.user
    depot = get_object_or_404(reserves.visible_depots(user), code=code)
    if not rules.may_keep_depot(user, depot):
        raise PermissionDenied(_("You may not change the stock of this depot."))
    items = list(Item.objects.filter(active=True))
    current = dict(MinimumLevel.objects.filter(depot=depot).values_list("item_id", "minimum"))
    form = forms.MinimumsForm(request.POST or None, items=items, current=current)
    if request.method == "POST" and form.is_valid():
        try:
            changed = stock_actions.set_minimums(user, depot, form.values())
        except ActionError as exc:
            _attach(form, exc)
        else:
            messages.success(request, _("Minimum levels saved (%(n)s changed).") % {"n": changed})
            return redirect("emergency:depot", code=depot.code)
    usable = reserves.usable_on_hand([depot])
    rows = [
        (item, form[f"minimum_{item.code}"], usable.get((depot.pk, item.pk), 0)) for item in items
    ]
    context = {"depot": depot, "form": form, "rows": rows}
    return render(request, "emergency/depot_minimums.html", context)


@requires(rules.may_view_reserves)
def item_list(request: AuthedRequest) -> HttpResponse:
    context = {
        "items": Item.objects.all(),
        "may_manage": rules.may_manage_items(request.user),
    }
    return render(request, "emergency/item_list.html", context)


@requires(rules.may_manage_items)
def item_new(request: AuthedRequest) -> HttpResponse:
    form = forms.ItemForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            item = stock_actions.create_item(request.user, **_item_values(d), code=d["code"])
        except ActionError as exc:
            _attach(form, exc)
        else:
            messages.success(request, _("Item %(name)s added.") % {"name": item.name})
            return redirect("emergency:items")
    return render(request, "emergency/item_form.html", {"form": form, "item": None})


@requires(rules.may_manage_items)
def item_edit(request: AuthedRequest, code: str) -> HttpResponse:
    item = get_object_or_404(Item, code=code)
    initial = {
        "name": item.name,
        "unit": item.unit,
        "category": item.category,
        "shelf_life_days": item.shelf_life_days,
        "daily_per_person": item.daily_per_person or None,
        "one_per_household": item.one_per_household,
    }
    form = forms.ItemForm(request.POST or None, initial=initial, editing=True)
    if request.method == "POST" and form.is_valid():
        try:
            stock_actions.update_item(request.user, item, **_item_values(form.cleaned_data))
        except ActionError as exc:
            _attach(form, exc)
        else:
            messages.success(request, _("Item saved."))
            return redirect("emergency:items")
    return render(request, "emergency/item_form.html", {"form": form, "item": item})


@require_POST
@requires(rules.may_keep_stock)
def stock_move(request: AuthedRequest) -> HttpResponse:
    user = request.user
    depots = list(reserves.visible_depots(user).filter(active=True))
    keep = [d for d in depots if rules.may_keep_depot(user, d)]
    form = _move_form(request, keep, depots)
    verb = request.POST.get("verb", "issue")
    if form.is_valid():
        d = form.cleaned_data
        by_code = {x.code: x for x in depots}
        depot, item = by_code.get(d["depot"]), Item.objects.filter(code=d["item"]).first()
        incident = _incident_choice(user, d.get("incident"))
        try:
            if depot is None or item is None:
                raise ActionError(_("Choose a depot and an item."), field="depot")
            if verb == "receive":
                stock_actions.receive(
                    user,
                    depot,
                    item,
                    d["quantity"],
                    batch_no=d["batch_no"],
                    expires_on=d["expires_on"],
                    reason=d["reason"],
                    incident=incident,
                )
            elif verb == "transfer":
                target = by_code.get(d["to_depot"] or "")
                if target is None:
                    raise ActionError(_("Choose where to transfer to."), field="to_depot")
                stock_actions.transfer(
                    user, depot, target, item, d["quantity"], reason=d["reason"], incident=incident
                )
            else:
                stock_actions.issue(
                    user, depot, item, d["quantity"], reason=d["reason"], incident=incident
                )
        except ActionError as exc:
            _attach(form, exc)
        else:
            messages.success(request, _("Stock move recorded."))
            return redirect(local_next(request, "emergency:stock"))
    for error in form.non_field_errors():
        messages.error(request, error)
    for name, errors in form.errors.items():
        if name != "__all__":
            for error in errors:
                messages.error(request, f"{form.fields[name].label}: {error}")
    return redirect(local_next(request, "emergency:stock"))


@requires(rules.may_view_reserves)
def depot_detail(request: AuthedRequest, code: str) -> HttpResponse:
    user = request.user
    depot = get_object_or_404(reserves.visible_depots(user), code=code)
    keeper = rules.may_keep_depot(user, depot)
    batches = list(
        StockBatch.objects.filter(depot=depot, quantity__gt=0)
        .select_related("item")
        .order_by("item__category", "item__code", "expires_on")
    )
    today = timezone.localdate()
    adjust = forms.AdjustForm(batches=batches, prefix="adj")
    minimum = forms.MinimumForm(items=Item.objects.filter(active=True), prefix="min")
    if request.method == "POST" and keeper:
        step = request.POST.get("step")
        try:
            if step == "adjust":
                adjust = forms.AdjustForm(request.POST, batches=batches, prefix="adj")
                if adjust.is_valid():
                    batch = next(b for b in batches if str(b.pk) == adjust.cleaned_data["batch"])
                    stock_actions.adjust(
                        user, batch, adjust.cleaned_data["quantity"], adjust.cleaned_data["reason"]
                    )
                    messages.success(request, _("Adjustment recorded."))
                    return redirect("emergency:depot", code=code)
            elif step == "minimum":
                minimum = forms.MinimumForm(
                    request.POST, items=Item.objects.filter(active=True), prefix="min"
                )
                if minimum.is_valid():
                    item = Item.objects.get(code=minimum.cleaned_data["item"])
                    stock_actions.set_minimum(user, depot, item, minimum.cleaned_data["minimum"])
                    messages.success(request, _("Minimum level saved."))
                    return redirect("emergency:depot", code=code)
            elif step == "dispose":
                expired = next((b for b in batches if str(b.pk) == request.POST.get("batch")), None)
                if expired is None:
                    raise Http404
                stock_actions.dispose_expired(user, expired)
                messages.success(request, _("Expired stock disposed of."))
                return redirect("emergency:depot", code=code)
        except ActionError as exc:
            _attach(adjust if step == "adjust" else minimum, exc)
            if step == "dispose":
                _flash(request, exc)
    moves = reserves.ledger_for(user, depot=depot)
    page = Paginator(moves, 30).get_page(request.GET.get("page"))
    context = {
        "depot": depot,
        "keeper": keeper,
        "rows": reserves.stock_rows([depot]),
        "batches": [(b, _expiry_state(b.expires_on, today)) for b in batches],
        "page": page,
        "adjust": adjust if keeper else None,
        "minimum": minimum if keeper else None,
        "move_form": _move_form(request, [depot], list(reserves.visible_depots(user)), fresh=True)
        if keeper
        else None,
    }
    return render(request, "emergency/depot_detail.html", context)


@requires(rules.may_view_reserves)
def stock_ledger(request: AuthedRequest) -> HttpResponse:
    user = request.user
    moves = reserves.ledger_for(user)
    depot, item = request.GET.get("depot") or "", request.GET.get("item") or ""
    if depot:
        moves = moves.filter(depot__code=depot)
    if item:
        moves = moves.filter(item__code=item)
    page = Paginator(moves, 50).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "query": urlencode({k: v for k, v in {"depot": depot, "item": item}.items() if v}),
        "depots": reserves.visible_depots(user),
        "items": Item.objects.all(),
        "depot": depot,
        "item": item,
        "ledgers": [
            ("moves", _("Stock moves")),
            ("stock", _("Stock on hand")),
            ("requests", _("Requests")),
            ("distributions", _("Distributions")),
            ("callups", _("Call-ups")),
        ],
    }
    return render(request, "emergency/stock_ledger.html", context)


@requires(rules.may_view_reserves)
def stock_export(request: AuthedRequest) -> HttpResponseBase:
    try:
        stream, name = stock_excel.export(request.user, request.GET.get("ledger", "moves"))
    except ActionError as exc:
        raise Http404 from exc
    return FileResponse(
        stream, as_attachment=True, filename=name, content_type=stock_excel.XLSX_CONTENT_TYPE
    )


@requires(rules.may_keep_stock)
def stock_import(request: AuthedRequest) -> HttpResponse:
    form = forms.ImportForm(request.POST or None, request.FILES or None)
    problems = []
    if request.method == "POST" and form.is_valid():
        try:
            result = stock_excel.import_counts(request.user, form.cleaned_data["file"].read())
        except ActionError as exc:
            problems = exc.errors
        else:
            messages.success(
                request,
                _("Stock count imported: %(rows)s rows, %(moves)s moves.")
                % {"rows": result.rows, "moves": result.moves},
            )
            return redirect("emergency:stock")
    return render(request, "emergency/stock_import.html", {"form": form, "problems": problems})


@requires(rules.may_keep_stock)
def stock_template(request: AuthedRequest) -> HttpResponseBase:
    return FileResponse(
        stock_excel.template(),
        as_attachment=True,
        filename="stock-count-template.xlsx",
        content_type=stock_excel.XLSX_CONTENT_TYPE,
    )


# --- Requests ---------------------------------------------------------------------------------


@requires(rules.may_view_reserves)
def request_list(request: AuthedRequest) -> HttpResponse:
    user = request.user
    depots = list(reserves.visible_depots(user).filter(active=True))
    ids = [d.pk for d in depots]
    rows = (
        SupplyRequest.objects.filter(Q(to_depot__in=ids) | Q(from_depot__in=ids))
        .select_related("to_depot", "from_depot", "requested_by")
        .prefetch_related("lines__item")
    )
    own = [d for d in depots if rules.may_keep_depot(user, d)]
    suppliers = [
        d
        for d in depots
        if any(o.place.code.startswith(d.place.code) and o.pk != d.pk for o in own)
        and d.kind != "community"
    ]
    form = None
    if own and suppliers:
        form = forms.RequestForm(
            request.POST or None,
            own=own,
            suppliers=suppliers,
            items=Item.objects.filter(active=True),
            incidents=_open_incidents(user),
        )
        if request.method == "POST" and form.is_valid():
            d = form.cleaned_data
            by_code = {x.code: x for x in depots}
            items = {i.code: i for i in Item.objects.all()}
            lines = [
                stock_actions.Line(items[d[f"item_{n}"]], d[f"quantity_{n}"])
                for n in range(form.LINES)
                if d.get(f"item_{n}") and d.get(f"quantity_{n}") is not None
            ]
            try:
                made = stock_actions.request_supplies(
                    user,
                    by_code[d["to_depot"]],
                    by_code[d["from_depot"]],
                    lines,
                    reason=d["reason"],
                    incident=_incident_choice(user, d.get("incident")),
                )
            except ActionError as exc:
                _attach(form, exc, {"lines[0].quantity": "quantity_0"})
            else:
                messages.success(request, _("Request %(number)s sent.") % {"number": made.number})
                return redirect("emergency:request", pk=made.pk)
    page = Paginator(rows, 30).get_page(request.GET.get("page"))
    return render(request, "emergency/request_list.html", {"page": page, "form": form})


@requires(rules.may_view_reserves)
def request_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    user = request.user
    ids = list(reserves.visible_depots(user).values_list("pk", flat=True))
    found = get_object_or_404(
        SupplyRequest.objects.filter(Q(to_depot__in=ids) | Q(from_depot__in=ids)).select_related(
            "to_depot__place", "from_depot__place", "requested_by", "decided_by"
        ),
        pk=pk,
    )
    lines = list(found.lines.select_related("item"))
    if request.method == "POST":
        step = request.POST.get("step")
        quantities = {
            line.item_id: _int(request.POST.get(f"q_{line.item_id}"), default=None)
            for line in lines
        }
        quantities = {k: v for k, v in quantities.items() if v is not None}
        try:
            if step == "approve":
                stock_actions.approve_request(
                    user, found, quantities, posted_text(request.POST, "note", max_length=300)
                )
            elif step == "reject":
                stock_actions.reject_request(
                    user, found, posted_text(request.POST, "note", max_length=300)
                )
            elif step == "issue":
                stock_actions.issue_request(user, found)
            elif step == "receive":
                stock_actions.receive_request(user, found, quantities)
            elif step == "cancel":
                stock_actions.cancel_request(user, found)
            else:
                raise Http404
        except ActionError as exc:
            _flash(request, exc)
        else:
            messages.success(request, _("Request updated."))
        return redirect("emergency:request", pk=pk)
    context = {
        "req": found,
        "lines": lines,
        "supplier": rules.may_keep_depot(user, found.from_depot),
        "receiver": rules.may_keep_depot(user, found.to_depot),
        "steps": ["requested", "approved", "issued", "received"],
    }
    return render(request, "emergency/request_detail.html", context)


# --- Distributions ----------------------------------------------------------------------------


@requires(rules.may_view_reserves)
def distribution_list(request: AuthedRequest) -> HttpResponse:
    user = request.user
    depots = list(reserves.visible_depots(user).filter(active=True))
    usable = [d for d in depots if rules.may_distribute_from(user, d)]
    form = None
    if usable:
        form = forms.DistributionForm(
            request.POST or None,
            depots=usable,
            items=Item.objects.filter(active=True),
            incidents=_open_incidents(user),
        )
        if request.method == "POST" and form.is_valid():
            d = form.cleaned_data
            depot = next(x for x in usable if x.code == d["depot"])
            community = _community_of_depot(depot, user)
            try:
                if community is None:
                    raise ActionError(_("Hand out from a community depot."), field="depot")
                home = stock_actions.register_household(
                    user, community, d["address"], head_name=d["head_name"]
                )
                stock_actions.distribute(
                    user,
                    depot,
                    home,
                    Item.objects.get(code=d["item"]),
                    d["quantity"],
                    signed_by=d["signed_by"],
                    incident=_incident_choice(user, d.get("incident")),
                )
            except ActionError as exc:
                _attach(form, exc, {"household": "address"})
            else:
                messages.success(request, _("Distribution recorded."))
                similar = stock_actions.near_duplicates(home)
                if similar:  # issue 23 #7: staff see possible duplicates of the flat
                    messages.warning(
                        request,
                        _("These households may be the same flat: %(list)s. Please check.")
                        % {"list": "、".join(h.address for h in similar)},
                    )
                return redirect("emergency:distributions")
    rows = Distribution.objects.filter(depot__in=[d.pk for d in depots]).select_related(
        "depot", "household", "item", "handed_out_by", "incident"
    )
    page = Paginator(rows, 30).get_page(request.GET.get("page"))
    return render(request, "emergency/distribution_list.html", {"page": page, "form": form})


# --- People and call-ups ----------------------------------------------------------------------


@requires(rules.may_view_people)
def people_list(request: AuthedRequest) -> HttpResponse:
    user = request.user
    condition = rules.people_filter(user)
    profiles = PersonProfile.objects.select_related("user", "place").order_by(
        "place__code", "kind", "user__username"
    )
    if condition is not None:
        profiles = profiles.filter(condition)
    kind = request.GET.get("kind") or ""
    if kind:
        profiles = profiles.filter(kind=kind)
    page = Paginator(profiles, 30).get_page(request.GET.get("page"))
    today = timezone.localdate()
    rows = [
        {
            "profile": p,
            "skills": [
                s
                for s in p.user.skills.select_related("skill")
                if not s.valid_until or s.valid_until >= today
            ],
            "hours": total_hours(p.user),
            "insured": p.insured_on(today),
            "phone": mask_phone(p.user.phone),
        }
        for p in page
    ]
    places = _manageable_places(user)
    profile_form = forms.ProfileForm(places=places, prefix="p") if places else None
    incidents = _open_incidents(user)
    candidate_form = (
        forms.CandidateForm(request.GET or None, incidents=incidents, skills=Skill.objects.all())
        if incidents
        else None
    )
    candidates = []
    chosen_incident = None
    if candidate_form is not None and request.GET.get("incident") and candidate_form.is_valid():
        chosen_incident = next(
            (i for i in incidents if str(i.pk) == candidate_form.cleaned_data["incident"]), None
        )
        if chosen_incident is not None:
            candidates = mobilisation.find_candidates(
                candidate_form.cleaned_data["skill"] or None,
                chosen_incident.place,
                None,
                candidate_form.cleaned_data["limit"],
            )
    if request.method == "POST" and profile_form is not None:
        profile_form = forms.ProfileForm(request.POST, places=places, prefix="p")
        if profile_form.is_valid():
            d = profile_form.cleaned_data
            person = User.objects.filter(Q(username=d["username"]) | Q(phone=d["username"])).first()
            try:
                if person is None:
                    raise ActionError(_("No such account."), field="username")
                people_actions.save_profile(
                    user,
                    person,
                    kind=d["kind"],
                    place=Place.objects.get(code=d["place"]),
                    qualification_level=d["qualification_level"] or "",
                    certificate_no=d["certificate_no"],
                    insured_until=d["insured_until"],
                )
            except ActionError as exc:
                _attach(profile_form, exc)
            else:
                messages.success(request, _("Person registered."))
                return redirect("emergency:people")
    context = {
        "page": page,
        "rows": rows,
        "kind": kind,
        "kinds": PersonProfile._meta.get_field("kind").choices,
        "profile_form": profile_form,
        "candidate_form": candidate_form,
        "candidates": candidates,
        "incident": chosen_incident,
        "query": urlencode({"kind": kind}) if kind else "",
    }
    return render(request, "emergency/people_list.html", context)


@require_POST
@requires(rules.may_view_people)
def callup_send(request: AuthedRequest) -> HttpResponse:
    user = request.user
    incident = _incident_choice(user, request.POST.get("incident"))
    if incident is None:
        raise Http404
    # Usernames are looked up, never stored: one with a control character or too long names
    # nobody (a NUL in the lookup would make PostgreSQL fail).
    usernames = [u for u in request.POST.getlist("users") if u.isprintable() and len(u) <= 150]
    people = list(User.objects.filter(username__in=usernames))
    try:
        note = posted_text(request.POST, "note", max_length=300)
        made = people_actions.send_callups(user, incident, people, note)
    except ActionError as exc:
        _flash(request, exc)
        return redirect("emergency:people")
    messages.success(request, _("%(n)s call-ups sent.") % {"n": len(made)})
    return redirect("emergency:callups")


@requires(rules.may_view_my_callups)
def callup_list(request: AuthedRequest) -> HttpResponse:
    user = request.user
    mine = CallUp.objects.filter(user=user).select_related("incident", "place")
    managed = CallUp.objects.none()
    if rules.may_view_people(user):
        condition = rules.people_filter(user, place_field="incident__place")
        managed = CallUp.objects.select_related("incident", "user")
        if condition is not None:
            managed = managed.filter(condition)
        managed = managed.exclude(user=user)
    context = {
        "mine": mine[:50],
        "managed": managed[:100],
        "hours": total_hours(user),
        "profile": PersonProfile.objects.filter(user=user).first(),
    }
    return render(request, "emergency/callup_list.html", context)


@require_POST
@requires(rules.may_view_my_callups)
def callup_step(request: AuthedRequest, pk: int, step: str) -> HttpResponse:
    user = request.user
    callup = get_object_or_404(CallUp, pk=pk)
    if callup.user_id != user.pk and not people_actions.may_mobilise(user, callup.incident):
        raise Http404
    try:
        if step == "accept":
            people_actions.respond_callup(user, callup, accept=True)
        elif step == "decline":
            people_actions.respond_callup(
                user,
                callup,
                accept=False,
                reason=posted_text(request.POST, "reason", max_length=200),
            )
        elif step == "check-in":
            people_actions.check_in(
                user,
                callup,
                lat=_float(request.POST.get("lat")),
                lng=_float(request.POST.get("lng")),
            )
        elif step == "check-out":
            people_actions.check_out(user, callup)
        elif step == "cancel":
            people_actions.cancel_callup(user, callup)
        else:
            raise Http404
    except ActionError as exc:
        _flash(request, exc)
    else:
        messages.success(request, _("Call-up updated."))
    return redirect("emergency:callups")


@requires(rules.may_view_my_callups)
def volunteer_me(request: AuthedRequest) -> HttpResponse:
    """My volunteering: skills, hours, insurance and my weekly availability."""
    user = request.user
    profile = PersonProfile.objects.filter(user=user).select_related("place").first()
    form = forms.AvailabilityForm(request.POST or None)
    if profile is not None and request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        windows = [people_actions.Window(int(day), d["starts"], d["ends"]) for day in d["weekdays"]]
        try:
            people_actions.set_availability(user, profile, windows)
        except ActionError as exc:
            _attach(form, exc, {f"windows[{i}].ends": "ends" for i in range(7)})
        else:
            messages.success(request, _("Availability saved."))
            return redirect("emergency:volunteer_me")
    today = timezone.localdate()
    context = {
        "profile": profile,
        "form": form,
        "skills": user.skills.select_related("skill"),
        "hours": total_hours(user),
        "insured": profile.insured_on(today) if profile else False,
        "windows": profile.availability.all() if profile else [],
        "today": today,
    }
    return render(request, "emergency/volunteer_me.html", context)


@requires(rules.may_view_people)
def team_list(request: AuthedRequest) -> HttpResponse:
    user = request.user
    condition = rules.people_filter(user)
    teams = Team.objects.select_related("place", "leader").prefetch_related("members")
    if condition is not None:
        teams = teams.filter(condition)
    places = _manageable_places(user)
    form = forms.TeamForm(request.POST or None, places=places) if places else None
    if request.method == "POST":
        try:
            if request.POST.get("step") == "member":
                team = get_object_or_404(teams, pk=_int(request.POST.get("team")))
                username = posted_text(request.POST, "username", max_length=150)
                who = User.objects.filter(username=username).first()
                if who is None:
                    raise ActionError(_("No such account."), field="username")
                people_actions.add_team_member(user, team, who)
                messages.success(request, _("Member added."))
                return redirect("emergency:teams")
            if form is not None and form.is_valid():
                people_actions.create_team(
                    user,
                    Place.objects.get(code=form.cleaned_data["place"]),
                    form.cleaned_data["name"],
                )
                messages.success(request, _("Team formed."))
                return redirect("emergency:teams")
        except ActionError as exc:
            if form is not None and request.POST.get("step") != "member":
                _attach(form, exc)
            else:
                _flash(request, exc)
    return render(request, "emergency/team_list.html", {"teams": teams, "form": form})


# --- The vulnerable register ------------------------------------------------------------------


@requires(rules.may_view_register)
def vulnerable_list(request: AuthedRequest) -> HttpResponse:
    user = request.user
    residents = vulnerable.visible_residents(user).filter(active=True)
    category = request.GET.get("category") or ""
    if request.GET.get("overdue"):
        residents = residents.filter(next_check_due__lt=timezone.now())
    rows = [r for r in residents if not category or category in r.categories]
    incidents = _open_incidents(user)
    incident = _incident_choice(user, request.GET.get("incident")) if incidents else None
    checklist = vulnerable.checklist(user, incident) if incident is not None else None
    summary = vulnerable.reach_summary(incident) if incident is not None else None
    now = timezone.now()
    context = {
        "rows": [
            {
                "r": r,
                "phone": mask_phone(r.phone),
                "categories": _labels(r.categories),
                "needs": _need_labels(r.needs),
                "overdue": r.next_check_due is not None and r.next_check_due < now,
            }
            for r in rows
        ],
        "category": category,
        "categories": VulnerableCategory.choices,
        "incidents": incidents,
        "incident": incident,
        "checklist": checklist,
        "summary": summary,
        "keeper": bool(_register_places(user)),
    }
    shown = list(dict.fromkeys([r.pk for r in rows] + [c.resident.pk for c in checklist or []]))
    read_audit.record_list_read(
        user, VulnerableResident, shown, "vulnerable", read_audit.reason_of(request)
    )
    return render(request, "emergency/vulnerable_list.html", context)


@requires(rules.may_view_register)
def vulnerable_new(request: AuthedRequest) -> HttpResponse:
    places = _register_places(request.user)
    if not places:
        raise Http404
    form = forms.ResidentForm(request.POST or None, places=places)
    if request.method == "POST" and form.is_valid():
        d = dict(form.cleaned_data)
        place = Place.objects.get(code=d.pop("place"))
        try:
            made = register_actions.register_resident(request.user, place, **d)
        except ActionError as exc:
            _attach(form, exc)
        else:
            messages.success(request, _("Resident registered."))
            return redirect("emergency:vulnerable_detail", pk=made.pk)
    return render(request, "emergency/vulnerable_form.html", {"form": form})


@requires(rules.may_view_register)
def vulnerable_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    user = request.user
    resident = get_object_or_404(vulnerable.visible_residents(user), pk=pk)
    keeper = rules.may_keep_register(user, resident.place)
    checkin = forms.CheckInForm(prefix="c")
    helpers = _helpers_of(resident.place) if keeper else []
    pair = forms.PairForm(
        helpers=helpers,
        prefix="p",
        initial={"helper": resident.helper.username if resident.helper else ""},
    )
    if request.method == "POST":
        step = request.POST.get("step")
        try:
            if step == "checkin":
                checkin = forms.CheckInForm(request.POST, prefix="c")
                if checkin.is_valid():
                    register_actions.record_checkin(
                        user,
                        resident,
                        checkin.cleaned_data["outcome"],
                        note=checkin.cleaned_data["note"],
                    )
                    messages.success(request, _("Check-in recorded."))
                    return redirect("emergency:vulnerable_detail", pk=pk)
            elif step == "pair" and keeper:
                pair = forms.PairForm(request.POST, helpers=helpers, prefix="p")
                if pair.is_valid():
                    who = next(
                        (u for u in helpers if u.username == pair.cleaned_data["helper"]), None
                    )
                    register_actions.pair(user, resident, who)
                    messages.success(request, _("Pairing saved."))
                    return redirect("emergency:vulnerable_detail", pk=pk)
        except ActionError as exc:
            _attach(checkin if step == "checkin" else pair, exc)
    context = {
        "r": resident,
        "keeper": keeper,
        "categories": _labels(resident.categories),
        "needs": _need_labels(resident.needs),
        "checkins": resident.checkins.select_related("by", "incident")[:30],
        "checkin": checkin,
        "pair": pair if keeper else None,
    }
    read_audit.record_read(user, resident, "vulnerable", read_audit.reason_of(request))
    return render(request, "emergency/vulnerable_detail.html", context)


# --- Helpers ----------------------------------------------------------------------------------


def _move_form(request, keep, depots, fresh: bool = False):
    data = None if fresh or request.method != "POST" else request.POST
    return forms.StockMoveForm(
        data,
        depots=keep,
        targets=depots,
        items=Item.objects.filter(active=True),
        incidents=_open_incidents(request.user),
        prefix="mv",
    )


def _depot_map(depots: list[Depot], rows) -> dict:
    """GeoJSON of the depots for the overview map: one point per depot, coloured by its worst
    state (below a minimum > expired or expiring within 30 days > fine), on the boundaries of
    the places that own them (no map tiles). A depot without coordinates stands at its place's
    centre, marked approximate; one with neither is left off and counted."""
    worst: dict[int, str] = {}
    for row in rows:
        state = "low" if row.below_minimum else "expiring" if row.expiring_30 or row.expired else ""
        if state == "low" or (state and worst.get(row.depot.pk) != "low"):
            worst[row.depot.pk] = state
    labels = {
        "low": _("Below minimum"),
        "expiring": _("Expiring or expired"),
        "ok": _("Stock fine"),
    }
    features: list[dict] = []
    unplaced = 0
    places: dict[int, Place] = {}
    for depot in depots:
        lat, lng, approximate = depot.lat, depot.lng, False
        if lat is None or lng is None:
            lat, lng, approximate = depot.place.centre_lat, depot.place.centre_lng, True
        if lat is None or lng is None:
            unplaced += 1
            continue
        places[depot.place_id] = depot.place
        status = worst.get(depot.pk) or "ok"
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [lng, lat]},
                "properties": {
                    "code": depot.code,
                    "name": depot.name,
                    "kind": str(depot.get_kind_display()),
                    "place": depot.place.name,
                    "url": reverse("emergency:depot", args=[depot.code]),
                    "status": status,
                    "status_label": str(labels[status]),
                    "approximate": approximate,
                },
            }
        )
    outlines = [
        {"type": "Feature", "geometry": p.boundary, "properties": {"name": p.name}}
        for p in places.values()
        if p.boundary
    ]
    return {
        "depots": {"type": "FeatureCollection", "features": features},
        "outlines": {"type": "FeatureCollection", "features": outlines},
        "unplaced": unplaced,
        "labels": {k: str(v) for k, v in labels.items()},
    }


def _depot_places(user) -> list[Place]:
    """Streets and communities where `user` may keep a depot."""
    codes = rules.scope.jurisdiction_codes(user, rules.STOCK_KEEPERS)
    places = Place.objects.filter(level__in=[PlaceLevel.STREET, PlaceLevel.COMMUNITY])
    if codes is not None:
        if not codes:
            return []
        condition = Q(pk__in=[])
        for code in codes:
            condition |= Q(code__startswith=code)
        places = places.filter(condition)
    return list(places.select_related("parent__parent").order_by("code")[:300])


def _picker(places: list[Place]) -> dict:
    """Outline and centre of each selectable place, for the location picker (no tiles)."""
    return {
        "places": {
            p.code: {
                "boundary": p.boundary,
                "centre": [p.centre_lat, p.centre_lng] if p.centre_lat is not None else None,
            }
            for p in places[:120]
        }
    }


def _place_choice(form, code: str) -> Place | None:
    """The place picked in a depot form. Any existing place is passed on, so the action's own
    scope check (not the list of choices) decides and names the field."""
    place = Place.objects.filter(code=code).first()
    if place is None:
        form.add_error("place", _("Choose a street or community."))
    return place


def _item_values(d: dict) -> dict:
    return {
        "name": d["name"],
        "unit": d["unit"],
        "category": d["category"],
        "shelf_life_days": d["shelf_life_days"],
        "one_per_household": d["one_per_household"],
        "daily_per_person": d["daily_per_person"] or 0,
    }


def _open_incidents(user):
    from renzhi.emergency import queries_incidents

    return list(
        queries_incidents.incidents_for(user)
        .exclude(status="closed")
        .select_related("place")
        .order_by("-started_at")[:30]
    )


def _incident_choice(user, value):
    if not value:
        return None
    from renzhi.emergency import queries_incidents

    return (
        queries_incidents.incidents_for(user).filter(pk=_int(value)).select_related("place").first()
    )


def _communities_of(user) -> list[Place]:
    codes = rules.scope.jurisdiction_codes(user, rules.STOCK_READERS)
    communities = Place.objects.filter(level=PlaceLevel.COMMUNITY)
    if codes is not None:
        condition = Q(pk__in=[])
        for code in codes:
            condition |= Q(code__startswith=code) | Q(code=code[:12])
        communities = communities.filter(condition)
    return list(communities.order_by("code")[:40])


def _community_of_depot(depot: Depot, user) -> Place | None:
    return depot.place if depot.place.level == PlaceLevel.COMMUNITY else None


def _manageable_places(user) -> list[Place]:
    codes = rules.scope.jurisdiction_codes(user, rules.PEOPLE_MANAGERS)
    places = Place.objects.filter(level__in=[PlaceLevel.COMMUNITY, PlaceLevel.STREET])
    if codes is not None:
        if not codes:
            return []
        condition = Q(pk__in=[])
        for code in codes:
            condition |= Q(code__startswith=code)
        places = places.filter(condition)
    return list(places.order_by("code")[:200])


def _register_places(user) -> list[Place]:
    codes = [
        m.place.code
        for m in rules.scope.memberships(user)
        if m.role in rules.REGISTER_KEEPERS and m.place is not None
    ]
    if not codes:
        return []
    condition = Q(pk__in=[])
    for code in codes:
        condition |= Q(code__startswith=code)
    return list(Place.objects.filter(condition, level=PlaceLevel.COMMUNITY).order_by("code"))


def _helpers_of(community: Place) -> list[User]:
    members = Membership.objects.filter(
        role__in=rules.HELPER_ROLES, place__code__startswith=community.code
    ).select_related("user")
    return sorted({m.user.pk: m.user for m in members}.values(), key=lambda u: u.username)


def _labels(codes) -> list[str]:
    names = dict(VulnerableCategory.choices)
    return [str(names.get(c, c)) for c in codes]


def _need_labels(codes) -> list[str]:
    return [str(NEEDS.get(c, c)) for c in codes]


def _expiry_state(expires_on: dt.date | None, today: dt.date) -> str:
    if expires_on is None:
        return ""
    if expires_on < today:
        return "expired"
    if expires_on <= today + dt.timedelta(days=7):
        return "d7"
    if expires_on <= today + dt.timedelta(days=30):
        return "d30"
    return ""


def _int(value, default=0):
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _float(value):
    try:
        return float(value) if value not in (None, "") else None
    except ValueError:
        return None


def _attach(form, exc: ActionError, aliases: dict[str, str] | None = None) -> None:
    aliases = aliases or {}
    for error in exc.errors:
        name = aliases.get(error.field or "", error.field)
        form.add_error(name if name in form.fields else None, error.message)


def _flash(request, exc: ActionError) -> None:
    for error in exc.errors:
        messages.error(request, error.message)
