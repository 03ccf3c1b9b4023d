"""Blocking abuse (issue 20): an operator blocks the patron of a chat; an admin lifts
a block. Every block and lift is a row (PatronBlock) and a line in the chat's audit."""

from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from chat import selectors
from chat.exceptions import Conflict, InvalidInput, NotFound
from chat.models import Chat, ChatAudit, Operator, PatronBlock
from chat.services._common import _audit

REASON_MAX = 500


@transaction.atomic
def patron_block(*, chat_id: int, operator: Operator, reason: str) -> PatronBlock:
    """Block the patron of ``chat_id``: new chats and offline questions from the address
    the chat came from are refused for the chat's department's ``block_days``. The
    operator must be able to see the chat; a reason is required. Blocking twice while a
    block is in force extends nothing: the block in force is returned (no second row)."""
    chat = Chat.objects.select_related("department").filter(pk=chat_id).first()
    if chat is None or not selectors.operator_can_see_chat(operator, chat):
        raise NotFound()
    reason = (reason or "").strip() if isinstance(reason, str) else ""
    if not reason:
        raise InvalidInput(_("Say why this patron is blocked."), code="reason_required")
    if len(reason) > REASON_MAX:
        raise InvalidInput(
            _("Keep the reason under %(limit)s characters.") % {"limit": REASON_MAX},
            code="too_long",
        )
    if not chat.origin_digest:
        raise Conflict(
            _("This chat's address is not known (or was scrubbed): it cannot be blocked."),
            code="no_address",
        )
    now = timezone.now()
    existing = (
        PatronBlock.objects.select_for_update()
        .filter(address_digest=chat.origin_digest, lifted_at__isnull=True, expires_at__gt=now)
        .first()
    )
    if existing is not None:
        return existing
    block = PatronBlock.objects.create(
        address_digest=chat.origin_digest,
        chat=chat,
        department=chat.department,
        reason=reason,
        created_by=operator.user,
        expires_at=now + timedelta(days=chat.department.block_days),
    )
    _audit(chat, ChatAudit.Action.BLOCKED, actor=operator.user, note=reason)
    return block


@transaction.atomic
def block_lift(*, block_id: int, actor) -> PatronBlock:
    """Lift a block (from /admin/): it stops matching at once; the row stays as the
    record. Lifting a lifted block changes nothing."""
    block = PatronBlock.objects.select_for_update().filter(pk=block_id).first()
    if block is None:
        raise NotFound(_("No such block."))
    if block.lifted_at is None:
        block.lifted_at = timezone.now()
        block.lifted_by = actor
        block.save(update_fields=["lifted_at", "lifted_by"])
        if block.chat_id:
            _audit(block.chat, ChatAudit.Action.UNBLOCKED, actor=actor)
    return block
