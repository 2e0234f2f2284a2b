"""JSON API of the emergency app, mounted by renzhi/api.py."""

from ninja import Router

router = Router(tags=["emergency"])
