from django.contrib import admin

from chat.admin import ReadOnlyInline
from tickets import services
from tickets.models import Ticket, TicketAttachment, TicketChange, TicketMessage


class MessageInline(ReadOnlyInline):
    model = TicketMessage
    fields = [
        "created_at",
        "kind",
        "author",
        "from_address",
        "body",
        "email_status",
        "email_attempts",
        "email_last_error",
    ]
    readonly_fields = fields


class ChangeInline(ReadOnlyInline):
    model = TicketChange
    fields = ["at", "actor", "field", "old_value", "new_value"]
    readonly_fields = fields


@admin.register(Ticket)
class TicketAdmin(admin.ModelAdmin):
    """Read-only: tickets change through the ticket desk (/tickets/), which audits."""

    list_display = [
        "reference",
        "subject",
        "department",
        "assignee",
        "status",
        "source",
        "updated_at",
    ]
    list_filter = ["status", "department", "source"]
    search_fields = ["subject", "patron_name", "patron_email", "question"]
    inlines = [MessageInline, ChangeInline]
    exclude = ["origin_digest"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    # Deleting (a superuser, e.g. at a patron's request) goes through the service, which
    # also removes the stored files that a plain row delete would leave behind.
    def delete_model(self, request, obj):
        services.ticket_delete(ticket=obj)

    def delete_queryset(self, request, queryset):
        for ticket in queryset:
            services.ticket_delete(ticket=ticket)


@admin.register(TicketAttachment)
class TicketAttachmentAdmin(admin.ModelAdmin):
    """Read-only; deleting one (a superuser) goes through the service, which removes
    the stored file too."""

    list_display = ["filename", "content_type", "size", "message"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def delete_model(self, request, obj):
        services.ticket_attachment_delete(attachment=obj)

    def delete_queryset(self, request, queryset):
        for attachment in queryset:
            services.ticket_attachment_delete(attachment=attachment)
