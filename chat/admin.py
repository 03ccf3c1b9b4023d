from django.contrib import admin

from chat.models import Chat, ChatAudit, Department, Membership, Message, Operator


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 1
    autocomplete_fields = ["operator"]


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "is_active", "fallback"]
    prepopulated_fields = {"slug": ["name"]}
    search_fields = ["name", "slug"]
    inlines = [MembershipInline]


@admin.register(Operator)
class OperatorAdmin(admin.ModelAdmin):
    list_display = ["user", "display_name", "status", "max_chats"]
    search_fields = ["user__username", "user__first_name", "user__last_name", "display_name"]
    readonly_fields = ["status", "status_changed_at"]


class MessageInline(admin.TabularInline):
    model = Message
    fields = ["seq", "sender", "operator", "body", "created_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


class AuditInline(admin.TabularInline):
    model = ChatAudit
    fields = ["at", "action", "actor", "from_operator", "to_operator", "note"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Chat)
class ChatAdmin(admin.ModelAdmin):
    """Read-only: nobody edits a transcript."""

    list_display = ["pk", "department", "status", "patron_name", "operator", "created_at"]
    list_filter = ["department", "status", "operator", "created_at"]
    search_fields = ["patron_name", "patron_email", "messages__body"]
    inlines = [MessageInline, AuditInline]
    exclude = ["patron_token_digest"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
