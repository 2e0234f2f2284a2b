from django.contrib import admin

from renzhi.core.models import AuditEvent, CalendarOverride, Membership, Place, Unit, User


@admin.register(Place)
class PlaceAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "level", "parent")
    search_fields = ("code", "name")
    list_filter = ("level",)


@admin.register(Unit)
class UnitAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "kind", "active")
    search_fields = ("code", "name")


@admin.register(User)
class UserAdmin(admin.ModelAdmin):
    list_display = ("username", "display_name", "is_active")
    search_fields = ("username", "display_name")
    exclude = ("password",)


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ("user", "role", "place", "unit")
    list_filter = ("role",)


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Read-only: the chain is written by actions only."""

    list_display = ("seq", "at", "actor_label", "verb", "object_type", "object_id")
    list_filter = ("verb",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


admin.site.register(CalendarOverride)
