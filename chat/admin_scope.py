"""What a Department admin reaches in /admin/.

The Desk admin group (and superusers) hold the desk-wide model permissions and see
everything. A Department admin (an operator whose membership in a department has that
role) holds none of them, yet runs their own departments: their settings (not the name,
address or whether the department is open, nor who works in it: those stay the desk's),
the canned messages of those departments, and their chats (read-only, as for everyone).
Everything else in the admin stays out of their reach, and so does every object of
another department: the lists show only theirs, and any other is "not found"."""

from django.contrib.auth import get_permission_codename

from chat import selectors


def administered(request) -> frozenset[int]:
    """The departments the request's user runs as a Department admin (asked once per
    request)."""
    if not hasattr(request, "_libdesk_administered"):
        request._libdesk_administered = selectors.administered_department_ids(request.user)
    return request._libdesk_administered


class DepartmentScopedAdmin:
    """A ModelAdmin mixin: besides the desk-wide permissions, a Department admin may do
    ``scoped_actions`` ("view", "add", "change", "delete") to the objects of the
    departments they run (``department_lookup``: the object's department, as a lookup;
    ``department_of``: the same on an object)."""

    department_lookup = "department"
    scoped_actions: tuple[str, ...] = ("view",)

    def department_of(self, obj) -> int | None:
        lookup = self.department_lookup
        return obj.pk if lookup == "pk" else getattr(obj, f"{lookup}_id")

    def desk_wide(self, request) -> bool:
        """Whether the user sees every object here (their own model permissions)."""
        user, opts = request.user, self.opts
        return any(
            user.has_perm(f"{opts.app_label}.{get_permission_codename(action, opts)}")
            for action in ("view", "change")
        )

    def scoped(self, request) -> bool:
        """Whether the user is here as a Department admin alone."""
        return not self.desk_wide(request) and bool(administered(request))

    def _may(self, request, action, obj=None) -> bool:
        if action not in self.scoped_actions or not self.scoped(request):
            return False
        return obj is None or self.department_of(obj) in administered(request)

    def scoped_queryset(self, queryset, departments):
        return queryset.filter(**{f"{self.department_lookup}__in": departments})

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if self.scoped(request):
            return self.scoped_queryset(queryset, administered(request))
        return queryset

    def has_module_permission(self, request):
        return super().has_module_permission(request) or bool(administered(request))

    def has_view_permission(self, request, obj=None):
        return (
            super().has_view_permission(request, obj)
            or self._may(request, "view", obj)
            or self._may(request, "change", obj)
        )

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) or self._may(request, "change", obj)

    def has_add_permission(self, request, *args):
        return super().has_add_permission(request, *args) or self._may(request, "add")

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) or self._may(request, "delete", obj)
