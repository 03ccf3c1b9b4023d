from django.contrib import admin

from tickets.models import Ticket, TicketAttachment, TicketChange, TicketMessage


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


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


@admin.register(TicketAttachment)
class TicketAttachmentAdmin(admin.ModelAdmin):
    list_display = ["filename", "content_type", "size", "message"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
