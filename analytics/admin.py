from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from analytics import free_text, services
from analytics.models import (
    ChatLocation,
    FormSettings,
    Interaction,
    Location,
    Mode,
    PatronType,
    QuestionType,
    Topic,
)
from chat.admin_scope import DepartmentScopedAdmin


class ChoiceAdmin(admin.ModelAdmin):
    """Choice lists: retire a choice (untick Active) instead of deleting it; entries
    that used it keep it, and it leaves the form."""

    list_display = ["name", "slug", "is_active", "position", "used"]
    list_editable = ["is_active", "position"]
    list_filter = ["is_active"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}

    @admin.display(description=_("entries"))
    def used(self, obj):
        return obj.interaction_set.count()

    def has_delete_permission(self, request, obj=None):
        # A choice in use cannot be deleted (PROTECT); retire it instead.
        if obj is not None and obj.interaction_set.exists():
            return False
        return super().has_delete_permission(request, obj)

    # The changelist's Active/Position columns save through save_model too.
    def save_model(self, request, obj, form, change):
        services.choice_save(choice=obj)

    def delete_model(self, request, obj):
        services.choice_delete(choice=obj)

    def delete_queryset(self, request, queryset):
        for choice in queryset:
            services.choice_delete(choice=choice)


for model in (Location, Mode, QuestionType, PatronType, Topic):
    admin.site.register(model, ChoiceAdmin)


@admin.register(FormSettings)
class FormSettingsAdmin(admin.ModelAdmin):
    """One row: which optional fields of the Reference Analytics form are required.
    Location, Mode and Duration always are."""

    fieldsets = [
        (
            _("Required fields (Location, Mode and Duration always are)"),
            {
                "fields": [
                    "require_referral",
                    "require_question_type",
                    "require_read_scale",
                    "require_patron_type",
                    "require_topic",
                    "require_question",
                    "require_answer",
                ]
            },
        ),
        (
            _("Who reads the free text (question, answer, internal note)"),
            {"fields": ["free_text_library_wide"]},
        ),
        (_("Chats"), {"fields": ["chat_location"]}),
    ]

    def has_add_permission(self, request):
        # One row: added once, by whoever may (a Desk admin), then changed.
        return super().has_add_permission(request) and not FormSettings.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        services.form_settings_save(form_settings=obj)


@admin.register(Interaction)
class InteractionAdmin(DepartmentScopedAdmin, admin.ModelAdmin):
    """Entries can be corrected here (through analytics.services); they are recorded
    from the dashboard or /analytics/new/. A Department admin reads their departments'
    entries (chat.admin_scope). The free text of an entry the user may not read
    (analytics.free_text) is left out of its page, and of what the search looks in."""

    scoped_actions = ("view",)

    list_display = [
        "occurred_at",
        "staff",
        "department",
        "location",
        "mode",
        "duration_minutes",
        "question_type",
        "chat",
    ]
    list_filter = ["mode", "location", "department", "question_type", "occurred_at"]
    list_select_related = ["staff", "department", "location", "mode", "question_type", "chat"]
    search_fields = ["question", "answer", "note", "staff__username"]
    date_hierarchy = "occurred_at"
    readonly_fields = ["chat", "staff", "recorded_by", "recorded_at"]
    raw_id_fields = ["referred_by_operator"]

    def has_add_permission(self, request):
        return False

    def get_fields(self, request, obj=None):
        fields = super().get_fields(request, obj)
        if obj is not None and not free_text.can_read(request.user, obj):
            return [name for name in fields if name not in free_text.FIELDS]
        return fields

    def get_search_fields(self, request):
        # Searching text one may not read would tell what it says, entry by entry. A
        # Department admin's list holds only entries of their departments: theirs to read.
        if self.scoped(request) or free_text.readable_entries(request.user) is None:
            return self.search_fields
        return [name for name in self.search_fields if name not in free_text.FIELDS]

    def save_model(self, request, obj, form, change):
        data = {
            name: form.cleaned_data[name]
            for name in services.ENTRY_FIELDS
            if name in form.cleaned_data
        }
        services.interaction_update(interaction=obj, data=data, actor=request.user)

    def delete_model(self, request, obj):
        services.interaction_delete(interaction=obj)

    def delete_queryset(self, request, queryset):
        for interaction in queryset:
            services.interaction_delete(interaction=interaction)


@admin.register(ChatLocation)
class ChatLocationAdmin(admin.ModelAdmin):
    """Per department: where a chat's entry starts (else the form settings' location)."""

    list_display = ["department", "location"]
    list_select_related = ["department", "location"]

    def save_model(self, request, obj, form, change):
        services.chat_location_save(chat_location=obj)

    def delete_model(self, request, obj):
        services.chat_location_delete(chat_location=obj)
