"""Blocking abuse: the keyed digest a block matches, and whether an address is blocked.

An address is never stored: a chat keeps ``address_digest(address)`` (an HMAC under
the secret key, so a leaked table cannot be reversed by hashing every IPv4 address),
and a block keeps the same digest. Rotating SECRET_KEY makes old blocks match nothing,
which is the safe direction.
"""

import hashlib
import hmac

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from chat.exceptions import DeskError

# What the patron reads: neutral, no accusation, no hint of how to get round it.
BLOCKED_MESSAGE = _(
    "Sorry, we cannot take a chat or a question from here at the moment. "
    "Please contact the library another way."
)


class Blocked(DeskError):
    code = "blocked"
    default_message = BLOCKED_MESSAGE


def address_digest(address: str) -> str:
    if not address or address == "unknown":
        return ""
    key = settings.SECRET_KEY.encode()
    return hmac.new(key, f"patron-block:{address}".encode(), hashlib.sha256).hexdigest()


def is_blocked(digest: str, now=None) -> bool:
    """Whether a block in force (not lifted, not expired) matches ``digest``. One query."""
    from chat.models import PatronBlock

    if not digest:
        return False
    return PatronBlock.objects.filter(
        address_digest=digest, lifted_at__isnull=True, expires_at__gt=now or timezone.now()
    ).exists()


def refuse_if_blocked(digest: str) -> None:
    """Raise Blocked (the neutral message) when ``digest`` is blocked."""
    if is_blocked(digest):
        raise Blocked()
