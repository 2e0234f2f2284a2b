"""JSON API of the emergency app, mounted at /api/emergency by renzhi/api.py."""

from ninja import Router

from renzhi.emergency.api_incidents import router as incidents_router
from renzhi.emergency.api_resources import router as resources_router

router = Router()
router.add_router("", incidents_router)
router.add_router("", resources_router)
