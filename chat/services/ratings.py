"""The patron's rating of an ended chat (issue 7): 1–5 and an optional comment."""

from django.db import transaction
from django.utils.translation import gettext as _

from chat import events
from chat.exceptions import Conflict, InvalidInput
from chat.models import Chat, ChatRating

COMMENT_MAX = 2000


@transaction.atomic
def chat_rate(*, chat_id: int, score, comment="") -> ChatRating:
    """The patron rates their chat once it ended (the caller checked the token). Rating
    again replaces the earlier rating. Staff see it in the chat admin."""
    if isinstance(score, bool) or not isinstance(score, int) or not 1 <= score <= 5:
        raise InvalidInput(_("Choose a rating from 1 to 5."))
    if not isinstance(comment, str):
        raise InvalidInput(_("A comment must be text."))
    comment = comment.strip()
    if len(comment) > COMMENT_MAX:
        raise InvalidInput(
            _("That comment is too long (limit %(limit)s characters).") % {"limit": COMMENT_MAX},
            code="too_long",
        )
    chat = Chat.objects.select_for_update(of=("self",)).get(pk=chat_id)
    if chat.status not in (Chat.Status.ENDED, Chat.Status.CLOSED):
        raise Conflict(_("You can rate the chat once it has ended."), code="not_ended")
    rating, created = ChatRating.objects.get_or_create(
        chat=chat, defaults={"score": score, "comment": comment}
    )
    if not created:
        rating.score, rating.comment = score, comment
        rating.save(update_fields=["score", "comment", "updated_at"])
    events.broadcast_on_commit(
        events.chat_group(chat.pk),
        {"type": "chat.rated", "chat": str(chat.public_id), "score": score},
        chat_pk=chat.pk,
    )
    return rating
