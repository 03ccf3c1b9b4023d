"""Canned messages: admin saves and operators' personal ones."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy

from chat.exceptions import Forbidden, InvalidInput, NotFound
from chat.models import (
    CannedMessage,
    Operator,
)
from chat.services._common import (
    _desk_setting,
)

# --- Canned messages -------------------------------------------------------------------


def _check_canned(canned: CannedMessage) -> None:
    for name, label in (
        ("title", pgettext_lazy("form field", "title")),
        ("shortcut", pgettext_lazy("form field", "shortcut")),
        ("body", pgettext_lazy("form field", "body")),
    ):
        value = getattr(canned, name)
        if not isinstance(value, str):
            raise InvalidInput(_("The %(field)s must be text.") % {"field": label})
        setattr(canned, name, value.strip())
    limit = _desk_setting("MAX_MESSAGE_LENGTH")
    if len(canned.body) > limit:
        raise InvalidInput(
            _("That body is too long (%(length)s characters; the limit is %(limit)s).")
            % {"length": len(canned.body), "limit": limit},
            code="too_long",
        )
    try:
        canned.full_clean(exclude=["created_at", "updated_at"])
    except ValidationError as error:
        messages = [
            message for field_messages in error.message_dict.values() for message in field_messages
        ]
        raise InvalidInput(" ".join(messages), code="invalid_canned") from None


@transaction.atomic
def canned_message_save(*, canned: CannedMessage) -> CannedMessage:
    """The one write path of a canned message (admin, dashboard, demo data): validates
    placeholders, shortcut and scope, then creates or updates it."""
    _check_canned(canned)
    if canned.pk is None:
        canned.save()
    else:
        canned.save(
            update_fields=[
                "scope",
                "department",
                "operator",
                "title",
                "shortcut",
                "language",
                "body",
                "updated_at",
            ]
        )
    return canned


@transaction.atomic
def canned_message_delete(*, canned: CannedMessage) -> None:
    CannedMessage.objects.filter(pk=canned.pk).delete()


def _own_canned(operator: Operator, canned_id) -> CannedMessage:
    """Precondition: inside a transaction. Locks the row; only its owner gets it."""
    try:
        canned = CannedMessage.objects.select_for_update().get(pk=int(canned_id))
    except (CannedMessage.DoesNotExist, TypeError, ValueError):
        raise NotFound(_("No such canned message.")) from None
    if canned.scope != CannedMessage.Scope.PERSONAL or canned.operator_id != operator.pk:
        raise Forbidden(_("You can change only your own personal canned messages."))
    return canned


@transaction.atomic
def canned_personal_create(
    *, operator: Operator, title: str, body: str, shortcut: str = ""
) -> CannedMessage:
    """An operator adds a canned message of their own (from the dashboard)."""
    canned = CannedMessage(
        scope=CannedMessage.Scope.PERSONAL,
        operator=operator,
        title=title,
        body=body,
        shortcut=shortcut,
    )
    return canned_message_save(canned=canned)


@transaction.atomic
def canned_personal_update(
    *, operator: Operator, canned_id: int, title: str, body: str, shortcut: str = ""
) -> CannedMessage:
    """An operator edits one of their own personal canned messages; anyone else's (or a
    department's or global one) is refused with Forbidden."""
    canned = _own_canned(operator, canned_id)
    canned.title, canned.body, canned.shortcut = title, body, shortcut
    return canned_message_save(canned=canned)


@transaction.atomic
def canned_personal_delete(*, operator: Operator, canned_id: int) -> None:
    canned = _own_canned(operator, canned_id)
    canned_message_delete(canned=canned)
