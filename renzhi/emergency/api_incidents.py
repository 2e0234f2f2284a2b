"""Emergency JSON API (incidents), mounted under /api/emergency by `renzhi.emergency.api`."""

from ninja import Router

router = Router(tags=["emergency"])
