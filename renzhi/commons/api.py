"""JSON API of the commons app, mounted by renzhi/api.py."""

from ninja import Router

router = Router(tags=["commons"])
