"""JSON API of the warning app, mounted by renzhi/api.py."""

from ninja import Router

router = Router(tags=["warning"])
