"""JSON API of the triage app, mounted by renzhi/api.py."""

from ninja import Router

router = Router(tags=["triage"])
