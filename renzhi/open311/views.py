"""Admin pages: partner keys (issue, revoke, see what each filed) and the extra questions per
category. The Open311 API itself is in `renzhi.open311.api`."""

from __future__ import annotations

from django.contrib import messages
from django.db.models import Count
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from renzhi.core.errors import ActionError
from renzhi.core.http import AuthedRequest
from renzhi.open311 import actions, publish, rules
from renzhi.open311.forms import AttributeForm, KeyForm, values_text
from renzhi.open311.models import PartnerRequest, ServiceAttribute
from renzhi.web.access import requires
from renzhi.web.forms import show_errors

REQUESTS_SHOWN = 200
NEW_KEY_SESSION = "open311_new_key"


@requires(rules.may_manage_keys)
def keys(request: AuthedRequest) -> HttpResponse:
    """Partner keys in the admin's jurisdiction. A new key is shown once: the POST redirects
    (so reloading the page cannot issue a second key) and the next GET takes the raw key out of
    the session."""
    user = request.user
    form = KeyForm(request.POST or None, user=user)
    if request.method == "POST" and form.is_valid():
        try:
            _key, raw = actions.issue_key(
                user,
                name=form.cleaned_data["name"],
                place=form.cleaned_data["place"],
                rate_limit=form.cleaned_data["rate_limit"],
            )
        except ActionError as error:
            show_errors(form, error)
        else:
            request.session[NEW_KEY_SESSION] = raw
            return redirect("open311:keys")
    new_key = request.session.pop(NEW_KEY_SESSION, None) if request.method == "GET" else None
    listed = rules.keys_for(user).annotate(filed=Count("requests")).order_by("-created_at")
    base = request.build_absolute_uri("/open311/v2/")
    return render(
        request,
        "open311/keys.html",
        {"form": form, "keys": listed, "new_key": new_key, "base_url": base},
    )


@requires(rules.may_manage_keys)
def key_detail(request: AuthedRequest, key_id: int) -> HttpResponse:
    key = get_object_or_404(rules.keys_for(request.user), pk=key_id)
    filed = (
        PartnerRequest.objects.filter(key=key)
        .select_related("appeal", "appeal__category", "appeal__unit")
        .order_by("-created_at")
    )
    rows = [
        {"link": link, "status": publish.STATUS_OF.get(link.appeal.state, publish.OPEN)}
        for link in filed[:REQUESTS_SHOWN]
    ]
    return render(
        request,
        "open311/key_detail.html",
        {"key": key, "rows": rows, "total": filed.count(), "shown": REQUESTS_SHOWN},
    )


@require_POST
@requires(rules.may_manage_keys)
def key_revoke(request: AuthedRequest, key_id: int) -> HttpResponse:
    key = get_object_or_404(rules.keys_for(request.user), pk=key_id)
    try:
        actions.revoke_key(request.user, key)
    except ActionError as error:
        for e in error.errors:
            messages.error(request, e.message)
    else:
        messages.success(request, _("Key of %(name)s revoked.") % {"name": key.name})
    return redirect("open311:key", key_id=key.pk)


@requires(rules.may_define_attributes)
def attributes(request: AuthedRequest) -> HttpResponse:
    categories = publish.service_categories()
    counts = dict(
        ServiceAttribute.objects.values_list("category_id").annotate(n=Count("id")).order_by()
    )
    rows = [{"category": c, "count": counts.get(c.pk, 0)} for c in categories]
    return render(request, "open311/attributes.html", {"rows": rows})


@requires(rules.may_define_attributes)
def category_attributes(request: AuthedRequest, code: str) -> HttpResponse:
    category = publish.find_service(code)
    if category is None:
        return render(request, "open311/attributes_missing.html", status=404)
    form = AttributeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            actions.save_attribute(request.user, category, _fields(form))
        except ActionError as error:
            show_errors(form, error)
        else:
            messages.success(request, _("Attribute added."))
            return redirect("open311:category_attributes", code=category.code)
    return render(
        request,
        "open311/category_attributes.html",
        {"category": category, "attributes": publish.attributes_of(category), "form": form},
    )


@requires(rules.may_define_attributes)
def attribute_edit(request: AuthedRequest, code: str, attribute_id: int) -> HttpResponse:
    attribute = get_object_or_404(
        ServiceAttribute.objects.select_related("category"), pk=attribute_id, category__code=code
    )
    initial = {
        "code": attribute.code,
        "description": attribute.description,
        "datatype": attribute.datatype,
        "required": attribute.required,
        "variable": attribute.variable,
        "order": attribute.order,
        "datatype_description": attribute.datatype_description,
        "values": values_text(attribute.values),
    }
    form = AttributeForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            actions.save_attribute(request.user, attribute.category, _fields(form), attribute)
        except ActionError as error:
            show_errors(form, error)
        else:
            messages.success(request, _("Attribute saved."))
            return redirect("open311:category_attributes", code=code)
    return render(
        request,
        "open311/attribute_edit.html",
        {"category": attribute.category, "attribute": attribute, "form": form},
    )


@require_POST
@requires(rules.may_define_attributes)
def attribute_delete(request: AuthedRequest, code: str, attribute_id: int) -> HttpResponse:
    attribute = get_object_or_404(ServiceAttribute, pk=attribute_id, category__code=code)
    try:
        actions.delete_attribute(request.user, attribute)
    except ActionError as error:
        for e in error.errors:
            messages.error(request, e.message)
    else:
        messages.success(request, _("Attribute deleted."))
    return redirect("open311:category_attributes", code=code)


def _fields(form: AttributeForm) -> actions.AttributeFields:
    data = form.cleaned_data
    return actions.AttributeFields(
        code=data["code"],
        description=data["description"],
        datatype=data["datatype"],
        required=data["required"],
        variable=data["variable"],
        order=data["order"],
        datatype_description=data["datatype_description"] or "",
        values=data["values"],
    )
