"""Stored files of the commons — organisation charters, activity photos, progress photos — to
those who may see the object they belong to (the same scope as its page), never from /media/."""

from __future__ import annotations

from django.http import Http404
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404

from renzhi.commons import queries, rules
from renzhi.commons.models import ActivityPhoto, ImplementationUpdate
from renzhi.core import uploads
from renzhi.core.http import AuthedRequest
from renzhi.web.access import requires


@requires(rules.may_take_part)
def charter(request: AuthedRequest, org_id: int) -> HttpResponseBase:
    org = queries.organisations_for(request.user).filter(pk=org_id).first()
    if org is None or not org.charter:
        raise Http404
    return uploads.serve(request, org.charter, download_name=f"charter-{org.pk}")


@requires(rules.may_take_part)
def activity_photo(request: AuthedRequest, activity_id: int, photo_id: int) -> HttpResponseBase:
    activity = queries.activities_for(request.user).filter(pk=activity_id).first()
    if activity is None:
        raise Http404
    photo = get_object_or_404(ActivityPhoto, pk=photo_id, activity=activity)
    return uploads.serve(request, photo.image, download_name=f"activity-{activity.pk}-{photo.pk}")


@requires(rules.may_take_part)
def progress_photo(request: AuthedRequest, proposal_id: int, update_id: int) -> HttpResponseBase:
    proposal = queries.proposals_for(request.user).filter(pk=proposal_id).first()
    if proposal is None:
        raise Http404
    update = get_object_or_404(ImplementationUpdate, pk=update_id, task__proposal=proposal)
    if not update.photo:
        raise Http404
    return uploads.serve(request, update.photo, download_name=f"progress-{update.pk}")
