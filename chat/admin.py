"""The desk's configuration in /admin/: departments, operators, canned messages, and a
read-only view of chats. Managed by the "Desk admin" group (migration 0003); a
Department admin runs their own departments here (``chat.admin_scope``); a plain
operator is staff with no model permission and sees nothing here."""

from django import forms
from django.conf import settings
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Count
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from modeltranslation.admin import TranslationAdmin

from chat import canned, services
from chat.admin_scope import DepartmentScopedAdmin, administered
from chat.models import (
    Attachment,
    CannedMessage,
    Chat,
    ChatAudit,
    ChatRating,
    Department,
    Membership,
    Message,
    Operator,
    PatronBlock,
)
from chat.services import departments

admin.site.site_header = _("LibDesk administration")
admin.site.site_title = _("LibDesk admin")


def embed_snippet(department: Department) -> str:
    """The one tag a library pastes into its site to offer this department's chat."""
    return (
        f'<script src="{settings.LIBDESK_PUBLIC_URL}/static/widget/loader.js" '
        f'data-department="{department.slug}" async></script>'
    )


# --- Departments ------------------------------------------------------------------------


class DepartmentForm(forms.ModelForm):
    class Meta:
        model = Department
        fields = departments.DEPARTMENT_FIELDS  # what the service saves

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Optional in the form: a department saved without choosing gets built-in sharing.
        self.fields["screenshare_mode"].required = False
        # Likewise a block's period: empty keeps what the department has (30 days new).
        self.fields["block_days"].required = False

    def clean_screenshare_mode(self):
        return self.cleaned_data.get("screenshare_mode") or "webrtc"

    def clean_block_days(self):
        days = self.cleaned_data.get("block_days")
        if days is None:
            return self.instance.block_days if self.instance.pk else 30
        if days < 1:
            raise ValidationError(_("A block lasts at least one day."))
        return days

    def clean_fallback(self):
        """A fallback chain must end: A → B → A would pass chats round forever (the
        service checks again under a lock; this gives the clear message on the form)."""
        fallback = self.cleaned_data.get("fallback")
        if departments.fallback_loops(self.instance, fallback):
            raise ValidationError(
                _(
                    "That fallback would go round in a circle back to this department. "
                    "Choose a department whose own fallback chain does not lead here."
                )
            )
        return fallback


def _membership_rows(formsets, other: str) -> list[tuple] | None:
    """The memberships an inline formset asks for, as (``other`` side, role) pairs.

    ``formset.save(commit=False)`` saves nothing: it fills the formset's new, changed
    and deleted lists, which the admin's change message (history) reads."""
    for formset in formsets:
        if formset.model is Membership:
            formset.save(commit=False)
            deleted = set(map(id, formset.deleted_forms))
            return [
                (
                    form.cleaned_data[other],
                    form.cleaned_data.get("role") or Membership.Role.OPERATOR,
                )
                for form in formset.forms
                if form.cleaned_data.get(other) is not None and id(form) not in deleted
            ]
    return None


class ServiceSavedAdmin(admin.ModelAdmin):
    """Saves and deletes through ``chat.services.departments`` (one write path): the
    object and its membership inline in one service call, in ``save_related``, so the
    live desk hears of it once, on commit."""

    def save_model(self, request, obj, form, change):
        pass  # saved with its memberships in save_related: one service call

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            self.delete_model(request, obj)


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 1
    autocomplete_fields = ["operator"]
    fields = ["operator", "role"]
    verbose_name = _("operator")
    verbose_name_plural = _("Operators")


@admin.register(Department)
class DepartmentAdmin(DepartmentScopedAdmin, ServiceSavedAdmin, TranslationAdmin):
    # TranslationAdmin: one greeting and one offline message field per language.
    # A Department admin changes their departments' settings; the name, address and
    # whether it is open, and who works in it, stay the Desk admin's.
    department_lookup = "pk"
    scoped_actions = ("view", "change")
    desk_only_fields = ["name", "slug", "is_active"]

    form = DepartmentForm
    list_display = ["name", "slug", "is_active", "fallback", "operator_count"]
    list_filter = ["is_active"]
    prepopulated_fields = {"slug": ["name"]}
    search_fields = ["name", "slug"]
    readonly_fields = ["widget_embed_snippet"]
    fieldsets = [
        (None, {"fields": ["name", "slug", "description", "is_active"]}),
        (_("Chat widget"), {"fields": ["greeting", "offline_message", "widget_embed_snippet"]}),
        (_("When nobody is online"), {"fields": ["fallback"]}),
        (_("Request Screenshare"), {"fields": ["screenshare_mode"]}),
        (_("Blocking abuse"), {"fields": ["block_days"]}),
    ]
    inlines = [MembershipInline]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("fallback")
            .annotate(operator_total=Count("membership", distinct=True))
        )

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        return fields + self.desk_only_fields if self.scoped(request) else fields

    def get_prepopulated_fields(self, request, obj=None):
        return {} if self.scoped(request) else super().get_prepopulated_fields(request, obj)

    def get_inlines(self, request, obj):
        return [] if self.scoped(request) else super().get_inlines(request, obj)

    @admin.display(description=_("Operators"), ordering="operator_total")
    def operator_count(self, department):
        return department.operator_total

    @admin.display(description=_("Widget embed snippet"))
    def widget_embed_snippet(self, department):
        if not department.pk:
            return _("Save the department to get its embed snippet.")
        return format_html(
            '<textarea readonly rows="3" cols="90" aria-label="{}" '
            'class="vLargeTextField">{}</textarea><div class="help">{}</div>',
            _("Widget embed snippet"),
            embed_snippet(department),
            _("Paste this tag into any page of the library's website."),
        )

    def save_related(self, request, form, formsets, change):
        departments.department_save(
            department=form.instance, memberships=_membership_rows(formsets, "operator")
        )

    def delete_model(self, request, obj):
        departments.department_delete(department=obj)


# --- Operators --------------------------------------------------------------------------


class OperatorMembershipInline(admin.TabularInline):
    model = Membership
    extra = 1
    fields = ["department", "role"]
    verbose_name = _("department")
    verbose_name_plural = _("Departments")


# A link typed without its scheme ("zoom.us/j/1") is taken as https, not http (Django
# 6's default; saying so silences 5.x's warning about the change).
URL_FIELDS_ASSUME_HTTPS = {models.URLField: {"assume_scheme": "https"}}


@admin.register(Operator)
class OperatorAdmin(ServiceSavedAdmin):
    formfield_overrides = URL_FIELDS_ASSUME_HTTPS
    list_display = ["user", "name_patrons_see", "department_names", "status", "max_chats"]
    list_filter = ["departments", "status"]
    search_fields = ["user__username", "user__first_name", "user__last_name", "display_name"]
    fields = [
        "user",
        "display_name",
        "name_patrons_see",
        "max_chats",
        "meeting_url",
        "shift_ends_at",
        "status",
        "status_changed_at",
    ]
    readonly_fields = ["name_patrons_see", "status", "status_changed_at"]
    inlines = [OperatorMembershipInline]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("user").prefetch_related("departments")

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "user":
            # The dashboard is for staff; a superuser makes accounts staff in Users.
            kwargs["queryset"] = get_user_model().objects.filter(is_staff=True, is_active=True)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    @admin.display(description=_("Name patrons see"))
    def name_patrons_see(self, operator):
        return operator.public_name if operator.pk else "—"

    @admin.display(description=_("Departments"))
    def department_names(self, operator):
        return ", ".join(department.name for department in operator.departments.all())

    def save_related(self, request, form, formsets, change):
        departments.operator_save(
            operator=form.instance, memberships=_membership_rows(formsets, "department")
        )

    def delete_model(self, request, obj):
        departments.operator_delete(operator=obj)


# --- Canned messages ----------------------------------------------------------------------

PREVIEW_CONTEXT = {
    "patron_name": "Pat",
    "operator_name": "Alice",
    "department": _("Reference Desk"),
    "library": settings.LIBRARY_NAME,
}


class DepartmentCannedForm(forms.ModelForm):
    """A Department admin's canned message form: "One department" is its only scope, set
    before the model's checks run (they require a department for it)."""

    def clean(self):
        self.instance.scope, self.instance.operator = CannedMessage.Scope.DEPARTMENT, None
        return super().clean()


@admin.register(CannedMessage)
class CannedMessageAdmin(DepartmentScopedAdmin, admin.ModelAdmin):
    # A Department admin writes the canned messages of their departments ("One
    # department"), not those for every department or personal to someone.
    scoped_actions = ("view", "add", "change", "delete")

    list_display = [
        "title",
        "shortcut",
        "language",
        "scope",
        "department",
        "operator",
        "updated_at",
    ]
    list_filter = ["scope", "department", "language"]
    search_fields = ["title", "shortcut", "body"]
    list_select_related = ["department", "operator__user"]
    fields = ["title", "shortcut", "language", "scope", "department", "operator", "body", "preview"]
    readonly_fields = ["preview"]
    radio_fields = {"scope": admin.VERTICAL}

    def scoped_queryset(self, queryset, departments):
        scope = CannedMessage.Scope.DEPARTMENT
        return queryset.filter(scope=scope, department__in=departments)

    def get_fields(self, request, obj=None):
        fields = super().get_fields(request, obj)
        if self.scoped(request):
            return [name for name in fields if name not in ("scope", "operator")]
        return fields

    def get_form(self, request, obj=None, **kwargs):
        if self.scoped(request):
            kwargs["form"] = DepartmentCannedForm
        form = super().get_form(request, obj, **kwargs)
        if self.scoped(request):
            form.base_fields["department"].required = True
        return form

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "department" and self.scoped(request):
            kwargs["queryset"] = Department.objects.filter(pk__in=administered(request))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    @admin.display(description=_("Preview (with sample names)"))
    def preview(self, message):
        if not message.body:
            return "—"
        return canned.fill(message.body, PREVIEW_CONTEXT)

    def save_model(self, request, obj, form, change):
        services.canned_message_save(canned=obj)

    def delete_model(self, request, obj):
        services.canned_message_delete(canned=obj)

    def delete_queryset(self, request, queryset):
        for message in queryset:
            services.canned_message_delete(canned=message)


# --- Chats: read-only -----------------------------------------------------------------------


class ReadOnlyInline(admin.TabularInline):
    """Rows shown, never added, changed or deleted here (transcripts, audit trails,
    files; also used by the tickets admin)."""

    extra = 0
    can_delete = False

    def has_view_permission(self, request, obj=None):
        # Shown inside a chat the user may read (a Department admin's: ChatAdmin's
        # queryset holds only their departments' chats).
        return super().has_view_permission(request, obj) or bool(administered(request))

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class MessageInline(ReadOnlyInline):
    model = Message
    fields = ["seq", "sender", "operator", "body", "created_at"]
    readonly_fields = fields
    ordering = ["seq"]
    verbose_name_plural = _("Transcript")


class AuditInline(ReadOnlyInline):
    model = ChatAudit
    fields = [
        "at",
        "action",
        "outcome",
        "actor",
        "from_operator",
        "to_operator",
        "to_department",
        "note",
    ]
    readonly_fields = fields
    verbose_name_plural = _("Audit trail")


class AttachmentInline(ReadOnlyInline):
    """Files by name, size and detected type: never a link that opens them here."""

    model = Attachment
    fields = ["created_at", "name", "kind", "size"]
    readonly_fields = fields
    verbose_name_plural = _("Attachments")


class RatingInline(ReadOnlyInline):
    """The patron's rating and comment (issue 7)."""

    model = ChatRating
    fields = ["score", "comment", "created_at"]
    readonly_fields = fields
    verbose_name_plural = _("Patron's rating")


@admin.register(Chat)
class ChatAdmin(DepartmentScopedAdmin, admin.ModelAdmin):
    """Read-only: nobody edits a transcript. A Department admin reads their departments'."""

    formfield_overrides = URL_FIELDS_ASSUME_HTTPS

    list_display = ["pk", "department", "status", "patron_name", "operator", "created_at"]
    list_filter = ["department", "status", "operator", "created_at"]
    list_select_related = ["department", "operator__user"]
    date_hierarchy = "created_at"
    search_fields = ["patron_name", "patron_email", "messages__body"]
    inlines = [MessageInline, AttachmentInline, RatingInline, AuditInline]
    # The token's and the start id's digests, the patron's message count of the current
    # minute (the rate limit's, meaningless to a reader of the transcript), and the
    # address's keyed digest (Block's: meaningless to a reader, kept out of sight).
    exclude = [
        "patron_token_digest",
        "start_key",
        "patron_minute",
        "patron_minute_messages",
        "origin_digest",
    ]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# --- Blocking abuse (issue 20) -------------------------------------------------------------


@admin.register(PatronBlock)
class PatronBlockAdmin(DepartmentScopedAdmin, admin.ModelAdmin):
    """Every block, in force or not: who blocked whom (which chat), why, until when.
    Blocks are made from a chat (Block on the dashboard or in Chat History) and lifted
    here; nothing else about them is edited. A Department admin sees and lifts their
    departments' blocks."""

    scoped_actions = ("view", "change")
    list_display = ["created_at", "department", "reason", "created_by", "expires_at", "state"]
    list_filter = ["department", "created_at", "expires_at"]
    list_select_related = ["department", "created_by", "lifted_by"]
    readonly_fields = [
        "chat_link",
        "department",
        "reason",
        "created_by",
        "created_at",
        "expires_at",
        "lifted_at",
        "lifted_by",
    ]
    fields = readonly_fields
    actions = ["lift_blocks"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # the record stays: lift instead

    @admin.display(description=_("State"))
    def state(self, block):
        if block.lifted_at:
            return _("Lifted")
        return _("In force") if block.is_in_force() else _("Expired")

    @admin.display(description=_("Chat"))
    def chat_link(self, block):
        if not block.chat_id:
            return "—"
        return format_html('<a href="/history/chats/{}/">{}</a>', block.chat.public_id, block.chat)

    @admin.action(description=_("Lift the selected blocks"))
    def lift_blocks(self, request, queryset):
        from chat.services import blocks

        lifted = 0
        for block in queryset.filter(lifted_at__isnull=True):
            blocks.block_lift(block_id=block.pk, actor=request.user)
            lifted += 1
        self.message_user(
            request,
            ngettext("%(count)s block lifted.", "%(count)s blocks lifted.", lifted)
            % {"count": lifted},
        )


# Campus sign-in (issue 18): the group → department mapping.
import chat.sign_in.admin  # noqa: E402, F401
