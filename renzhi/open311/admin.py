"""Django admin for the adapter. Keys are issued on the Open311 keys page (the raw key is
shown once there); here they can be looked at and revoked, never created or edited."""

from __future__ import annotations

from django.contrib import admin

from renzhi.open311.models import PartnerKey, PartnerRequest, ServiceAttribute


@admin.register(ServiceAttribute)
class ServiceAttributeAdmin(admin.ModelAdmin):
    list_display = ("category", "order", "code", "description", "datatype", "required")
    list_filter = ("datatype", "required")
    search_fields = ("code", "description", "category__code", "category__name")
    ordering = ("category__code", "order")


@admin.register(PartnerKey)
class PartnerKeyAdmin(admin.ModelAdmin):
    list_display = ("name", "prefix", "place", "rate_limit", "created_at", "last_used_at")
    readonly_fields = ("user", "prefix", "key_hash", "created_by", "created_at", "last_used_at")
    search_fields = ("name", "prefix")

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(PartnerRequest)
class PartnerRequestAdmin(admin.ModelAdmin):
    list_display = ("appeal", "key", "created_at")
    readonly_fields = ("appeal", "key", "token", "attributes", "media_url", "address_id")
    list_select_related = ("appeal", "key")

    def has_add_permission(self, request, obj=None) -> bool:
        return False
