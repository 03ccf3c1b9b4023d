"""Retried chat starts: a start's fields cleaned (its client id's digest, the key a retry
finds it by), the token a start with a client id gets, and the chat an earlier attempt
already made (``chat_start_retried``): what ``chat.services.chats.chat_start`` builds on."""

import hashlib
import secrets
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator
from django.utils.crypto import salted_hmac
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _

from chat.exceptions import Conflict, InvalidInput
from chat.models import Chat, Message
from chat.services._common import _clean_body, _clean_client_id
from chat.text import check_length, check_text


@dataclass(frozen=True)
class StartRequest:
    """A chat start's fields, cleaned; ``key`` is the digest of its client id ("" when
    it has none)."""

    question: str
    patron_name: str
    patron_email: str
    client_id: str
    key: str


def clean_start(question, patron_name, patron_email, client_id) -> StartRequest:
    body = _clean_body(question)
    client_id = _clean_client_id(client_id)
    # Refused, never cut (chat.text): a cut name or address is a wrong one.
    patron_name = check_length(check_text((patron_name or "").strip(), "name"), "name", 80)
    patron_email = check_length((patron_email or "").strip(), "email", 254)
    if patron_email:
        try:
            EmailValidator()(patron_email)
        except ValidationError:
            raise InvalidInput(
                _("That email address does not look right."), code="bad_email"
            ) from None
    key = hashlib.sha256(_id_bytes(f"chat-start:{client_id}")).hexdigest() if client_id else ""
    return StartRequest(body, patron_name, patron_email, client_id, key)


def start_token(public_id, client_id: str) -> str:
    """The token of a chat started with ``client_id``: derived (keyed with SECRET_KEY)
    from the chat and the id, so a retry can be answered with it again although the
    database keeps only digests. Without a client id: random."""
    if not client_id:
        return secrets.token_urlsafe(32)
    mac = salted_hmac(
        "libdesk.chat.start", _id_bytes(f"{public_id}:{client_id}"), algorithm="sha256"
    )
    return urlsafe_base64_encode(mac.digest())


def _id_bytes(text: str) -> bytes:
    # A client id is the client's to choose, lone surrogates included (what a browser
    # may send): only its digest is kept, so any string of it must hash.
    return text.encode("utf-8", "surrogatepass")


def chat_start_retried(
    *, question: str, patron_name: str = "", patron_email: str = "", client_id: str = ""
) -> tuple[Chat, str] | None:
    """The chat a retried start (same client id) already made, with its token; None when
    this start is new. Reads only (it changes nothing): the view asks it before the rate
    limit and the department's presence, so a retry is answered even when the first
    attempt used up the patron's last start or everyone has gone offline since.

    Raises InvalidInput as ``chat_start`` does, and Conflict ``start_conflict`` when that
    id started a chat with another question, name or email (a client reusing ids):
    nothing of that chat is returned."""
    return retried_start(clean_start(question, patron_name, patron_email, client_id))


def retried_start(start: StartRequest) -> tuple[Chat, str] | None:
    if not start.key:
        return None
    chat = Chat.objects.select_related("department").filter(start_key=start.key).first()
    if chat is None:
        return None
    question = Message.objects.filter(chat=chat, seq=1).values_list("body", flat=True).first() or ""
    token = start_token(chat.public_id, start.client_id)
    same = (question, chat.patron_name, chat.patron_email) == (
        start.question,
        start.patron_name,
        start.patron_email,
    )
    if not same or not chat.token_matches(token):
        raise Conflict(
            _(
                "A chat was already started with this client_id and a different question. "
                "Start a new chat with a new client_id."
            ),
            code="start_conflict",
        )
    return chat, token
