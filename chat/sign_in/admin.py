"""/admin/: the Desk admin keeps the campus group → department mapping; who signed in
from where is read-only (the campus, not the admin, says who someone is)."""

from django.contrib import admin

from chat.models import CampusIdentity, SignInMapping
from chat.services import identity


@admin.register(SignInMapping)
class SignInMappingAdmin(admin.ModelAdmin):
    list_display = ["value", "attribute", "provider", "department", "role", "desk_admin"]
    list_filter = ["provider", "department", "desk_admin"]
    search_fields = ["value"]
    fields = ["provider", "attribute", "value", "department", "role", "desk_admin"]

    def save_model(self, request, obj, form, change):
        identity.sign_in_mapping_save(mapping=obj)

    def delete_model(self, request, obj):
        identity.sign_in_mapping_delete(mapping=obj)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            identity.sign_in_mapping_delete(mapping=obj)


@admin.register(CampusIdentity)
class CampusIdentityAdmin(admin.ModelAdmin):
    list_display = ["subject", "provider", "user", "last_sign_in_at", "deprovisioned_at"]
    list_filter = ["provider"]
    search_fields = ["subject", "user__username"]
    readonly_fields = [
        "user",
        "provider",
        "subject",
        "last_sign_in_at",
        "deprovisioned_at",
        "deprovision_reason",
    ]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
