"""Files in chats (issue 7): the one write path, the download check, and their text form.

A file is checked before anything is stored: its size (settings.ATTACHMENTS["MAX_BYTES"])
and its type, decided from the content by ``chat.filetypes`` and allowed by
settings.ATTACHMENTS["ALLOWED_TYPES"]. It is kept in Django's default storage under a
random name (``attachments/<hex>``, outside any URL space) and served only by
``chat.views.attachments.attachment_download`` to the chat's patron (token) or to staff
who may see the chat.
"""

import os
import re
import unicodedata

from django.conf import settings
from django.core.files.base import File
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from chat import filetypes, ratelimit, selectors
from chat.exceptions import Conflict, Forbidden, InvalidInput, RateLimited
from chat.models import Attachment, Chat, Message, Operator

_HEAD_BYTES = 64 * 1024


def _limits() -> dict:
    return settings.ATTACHMENTS


def human_size(size: int) -> str:
    if size < 1024:
        return f"{size} bytes"
    if size < 1024 * 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size / (1024 * 1024):.1f} MB"


def clean_name(name) -> str:
    """The file's own name, without any path, control characters or leading dots."""
    name = name if isinstance(name, str) else ""
    name = re.split(r"[\\/]", name)[-1]
    name = "".join(
        ch for ch in unicodedata.normalize("NFC", name) if unicodedata.category(ch)[0] != "C"
    )
    name = name.strip().lstrip(".").strip()
    if len(name) > 150:
        stem, ext = os.path.splitext(name)
        name = stem[: 150 - len(ext[:20])] + ext[:20]
    return name or "attachment"


def check_file(upload, name: str) -> filetypes.FileType:
    """Size and type, before anything is stored. Raises InvalidInput with a message the
    widget shows as it is (codes ``too_large``, ``empty_file``, ``type_refused``)."""
    limit = _limits()["MAX_BYTES"]
    size = upload.size
    if size is None or size > limit:
        raise InvalidInput(
            _("That file is too large (%(size)s); the limit is %(limit)s.")
            % {"size": human_size(size or 0), "limit": human_size(limit)},
            code="too_large",
        )
    if size == 0:
        raise InvalidInput(_("That file is empty."), code="empty_file")
    upload.seek(0)
    head = upload.read(_HEAD_BYTES)
    detected = filetypes.detect(head, upload, name)
    upload.seek(0)
    allowed = set(_limits()["ALLOWED_TYPES"])
    if detected is None or detected.key not in allowed:
        kinds = ", ".join(
            str(filetypes.TYPES[key].label) for key in filetypes.TYPES if key in allowed
        )
        raise InvalidInput(
            _(
                "“%(name)s” can't be sent: only these kinds of files are accepted: %(kinds)s. "
                "The file's content decides, not its name."
            )
            % {"name": name, "kinds": kinds},
            code="type_refused",
        )
    return detected


def attachment_send(
    *,
    chat_id: int,
    upload,
    sender: str,
    operator: Operator | None = None,
    client_id: str = "",
) -> tuple[Message, bool]:
    """A file sent in a chat by its patron (the caller checked the token) or by the
    operator who has it: a message whose body is the file's name, carrying the file.

    Checks size and type first, stores the file, then appends the message under the
    chat's row lock (chat.services). Idempotent on ``client_id`` like message_send.
    Returns ``(message, created)``. The stored file is removed if nothing commits.
    """
    from chat import services

    name = clean_name(getattr(upload, "name", ""))
    client_id = services._clean_client_id(client_id)
    if client_id:
        existing = Message.objects.filter(chat_id=chat_id, client_id=client_id).first()
        if existing is not None:
            return existing, False
    detected = check_file(upload, name)
    stored = default_storage.save(Attachment.file.field.generate_filename(None, name), File(upload))
    try:
        return _attach(
            chat_id=chat_id,
            stored=stored,
            name=name,
            size=upload.size,
            detected=detected,
            sender=sender,
            operator=operator,
            client_id=client_id,
        )
    except IntegrityError:
        default_storage.delete(stored)
        existing = Message.objects.get(chat_id=chat_id, client_id=client_id)
        return existing, False
    except BaseException:
        default_storage.delete(stored)
        raise


@transaction.atomic
def _attach(*, chat_id, stored, name, size, detected, sender, operator, client_id):
    from chat import services

    chat = services._lock_chat(chat_id)
    if sender == Message.Sender.PATRON:
        if chat.status not in (Chat.Status.WAITING, Chat.Status.ACTIVE):
            raise Conflict(_("This chat has ended."), code="chat_ended")
    elif sender == Message.Sender.OPERATOR:
        if chat.status != Chat.Status.ACTIVE:
            raise Conflict(_("This chat is not active."), code="chat_not_active")
        if operator is None or chat.operator_id != operator.pk:
            raise Forbidden(_("Only the librarian who claimed this chat can send files in it."))
    else:
        raise InvalidInput(_("Unknown sender."))
    limits = _limits()
    if Attachment.objects.filter(chat=chat).count() >= limits["PER_CHAT"]:
        raise Conflict(
            _("This chat already has %(count)s files, the most it can hold.")
            % {"count": limits["PER_CHAT"]},
            code="too_many_files",
        )
    if not ratelimit.allow(
        "attach", f"{chat.pk}:{sender}", limit=limits["PER_MINUTE"], window_seconds=60
    ):
        raise RateLimited(_("You are sending files too fast. Please wait a minute and try again."))
    attachment = Attachment.objects.create(
        chat=chat,
        file=stored,
        name=name,
        size=size,
        content_type=detected.content_type,
        kind=str(detected.label),
    )
    message = services._append_message(
        chat,
        sender=sender,
        body=name,
        client_id=client_id,
        operator=operator,
        attachment=attachment,
    )
    return message, True


def delete_files_of(attachments) -> int:
    """Delete the stored files of ``attachments`` (a queryset) once the surrounding
    transaction commits, and their rows now. Returns how many rows went."""
    names = list(attachments.values_list("file", flat=True))
    deleted, _ = attachments.delete()
    if names:
        transaction.on_commit(lambda: [_delete_quietly(name) for name in names])
    return deleted


def _delete_quietly(name):
    try:
        default_storage.delete(name)
    except OSError:
        pass  # already gone: retention is idempotent


# --- Reads --------------------------------------------------------------------------------


def attachment_for_patron(token, public_id) -> Attachment | None:
    chat = selectors.chat_for_token(token)
    if chat is None:
        return None
    return Attachment.objects.filter(chat=chat, public_id=public_id, message__isnull=False).first()


def attachment_for_staff(operator: Operator, public_id) -> Attachment | None:
    found = (
        Attachment.objects.select_related("chat")
        .filter(public_id=public_id, message__isnull=False)
        .first()
    )
    if found is None or not selectors.operator_can_see_chat(operator, found.chat):
        return None
    return found


def download_content_type(attachment: Attachment) -> str:
    """Only types from the allowlist ever go out; anything else is plain bytes."""
    known = {t.content_type for t in filetypes.TYPES.values()}
    return (
        attachment.content_type if attachment.content_type in known else "application/octet-stream"
    )


def payload(attachment: Attachment) -> dict:
    previewable = any(
        t.previewable and t.content_type == attachment.content_type
        for t in filetypes.TYPES.values()
    )
    return {
        "id": str(attachment.public_id),
        "name": attachment.name,
        "size": attachment.size,
        "size_label": human_size(attachment.size),
        "type": attachment.kind,
        "content_type": attachment.content_type,
        "previewable": previewable,
        "url": f"/attachments/{attachment.public_id}",
    }


def message_text(message: Message) -> str:
    """A message as one line of text (email transcripts, tickets): attachments by name."""
    attachment = cached_attachment(message)
    if attachment is None:
        return message.body
    return f"[Attachment: {attachment.name}, {attachment.kind}, {human_size(attachment.size)}]"


def cached_attachment(message: Message) -> Attachment | None:
    """The message's attachment if it was loaded (select_related("attachment") or set by
    the service), else looked up (one query)."""
    related = Message.attachment.related
    if related.is_cached(message):
        return related.get_cached_value(message)
    if message.pk is None:
        return None
    found = Attachment.objects.filter(message_id=message.pk).first()
    related.set_cached_value(message, found)
    return found
