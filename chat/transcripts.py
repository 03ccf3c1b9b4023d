"""A chat's transcript for its patron, by email: HTML and plain text.

Only what the patron saw is included: the chat's own messages (patron, librarian and
system lines). Internal chats (staff to staff, ``chat.InternalChat``) live in their own
tables and never appear; should messages ever carry an internal flag, those are
excluded too. Links stay clickable: the HTML part runs ``urlize`` on autoescaped text.
"""

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from chat.models import Chat, Message
from chat.services import attachments

PATRON_SENDERS = (Message.Sender.PATRON, Message.Sender.OPERATOR, Message.Sender.SYSTEM)
# Flags that would mark a message as staff-only, if the model ever has one.
_INTERNAL_FLAGS = ("is_internal", "internal")


def patron_visible_messages(chat: Chat):
    qs = Message.objects.filter(chat=chat, sender__in=PATRON_SENDERS)
    field_names = {field.name for field in Message._meta.get_fields()}
    for flag in _INTERNAL_FLAGS:
        if flag in field_names:
            qs = qs.filter(**{flag: False})
    return qs.select_related("operator__user", "attachment").order_by("seq")


def _author(message: Message, chat: Chat) -> str:
    if message.sender == Message.Sender.PATRON:
        return chat.patron_label
    if message.sender == Message.Sender.OPERATOR:
        return message.operator.public_name if message.operator_id else _("Librarian")
    return ""


def render(chat: Chat) -> tuple[str, str, str]:
    """``(subject, text, html)`` of the chat's transcript, in the patron's language (the
    chat's), dates and times as that language writes them."""
    with translation.override(chat.language or settings.LANGUAGE_CODE):
        return _render(chat)


def _render(chat: Chat) -> tuple[str, str, str]:
    lines = [
        {
            "sender": message.sender,
            "author": _author(message, chat),
            "body": attachments.message_text(message),  # files by name (issue 7)
            "at": timezone.localtime(message.created_at),
        }
        for message in patron_visible_messages(chat)
    ]
    context = {
        "chat": chat,
        "lines": lines,
        "library": settings.LIBRARY_NAME,
        "started": timezone.localtime(chat.created_at),
        "public_url": settings.LIBDESK_PUBLIC_URL,
    }
    subject = _("Your chat with %(department)s (%(date)s)") % {
        "department": chat.department.name,
        "date": date_format(context["started"], "DATE_FORMAT"),
    }
    text = render_to_string("chat/email/transcript.txt", context)
    html = render_to_string("chat/email/transcript.html", context)
    return subject, text, html


def build_email(chat: Chat, to: str) -> EmailMultiAlternatives:
    subject, text, html = render(chat)
    message = EmailMultiAlternatives(subject=subject, body=text, to=[to])
    message.attach_alternative(html, "text/html")
    return message


def send(*, chat_id: int, to: str) -> None:
    """Render and send now (called by the Celery task ``chat.tasks.email_transcript``)."""
    chat = Chat.objects.select_related("department").get(pk=chat_id)
    build_email(chat, to).send(fail_silently=False)
