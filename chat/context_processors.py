from django.conf import settings

from chat.admin_scope import administered


def library(request):
    return {"LIBRARY_NAME": settings.LIBRARY_NAME}


def admin_link(request):
    """``show_admin_link``: whether the header offers /admin/ — to superusers, the Desk
    admin group and Department admins. A function, so that it is asked (one query for
    an operator who is neither of the first two) only by a page that shows the link."""

    def shown() -> bool:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return False
        return (
            user.is_superuser
            or user.has_perm("chat.change_department")
            or bool(administered(request))  # the admin's own per-request answer
        )

    return {"show_admin_link": shown}
