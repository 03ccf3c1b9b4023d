"""Hosted providers' inbound webhooks (Mailgun, SendGrid Inbound Parse, Postmark,
Amazon SES through SNS), on django-anymail's views and its ``inbound`` signal.

Each request is checked the provider's own way before anything is stored:

- Mailgun: the HMAC-SHA256 signature of timestamp + token (anymail), a timestamp no
  older than ``TICKETS_WEBHOOK_MAX_AGE_SECONDS``, and a token used once (Mailgun signs
  only those two, not the mail, so a replayed token carries a mail only when it is the
  very one already stored);
- Amazon SES: the SNS message signature, verified with the signing certificate fetched
  from an Amazon SNS address only (``TICKETS_SNS_URL_PATTERN``), then the subscription
  confirmed by loading its SubscribeURL (no AWS SDK needed);
- SendGrid Inbound Parse and Postmark sign nothing: the credentials of their URL
  (``ANYMAIL_WEBHOOK_SECRET``, HTTP basic auth, required) are the check.

Every mail goes through ``services.ticket_receive_email_once``: a 2xx answer means it is
stored (or was, same Message-ID); a failure answers 400 (refused) or 500, and the
provider retries. Bodies up to the desk's 30 MB maximum are read here (413 above), so
these views alone are exempt from ``DATA_UPLOAD_MAX_MEMORY_SIZE``.
"""

import base64
import logging
import re
import time
import urllib.request
from email import policy
from email.parser import BytesParser
from functools import lru_cache

from anymail.exceptions import AnymailConfigurationError, AnymailWebhookValidationFailure
from anymail.signals import inbound
from anymail.webhooks.amazon_ses import AmazonSESInboundWebhookView
from anymail.webhooks.base import AnymailBaseWebhookView
from anymail.webhooks.mailgun import MailgunInboundWebhookView
from anymail.webhooks.postmark import PostmarkInboundWebhookView
from anymail.webhooks.sendgrid import SendGridInboundWebhookView
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from django.conf import settings
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import HttpResponse, HttpResponseForbidden, QueryDict
from django.utils.datastructures import MultiValueDict
from django.views.decorators.csrf import csrf_exempt

from tickets import selectors, services
from tickets.inbound import parse_message

logger = logging.getLogger(__name__)
MAX_INBOUND_BYTES = 30 * 1024 * 1024
SNS_URL_PATTERN = r"^https://sns\.[a-z0-9-]+\.amazonaws\.com(\.cn)?/"


def _tickets_setting(name, default):
    return settings.TICKETS.get(name, default)


# --- Bodies up to 30 MB for these views only ------------------------------------------


def read_inbound_body(request) -> bytes | None:
    """The raw body, up to MAX_INBOUND_BYTES (None above it). Read from the stream, not
    ``request.body``: DATA_UPLOAD_MAX_MEMORY_SIZE (2.5 MB) stays the limit of every
    other view, and only the inbound endpoints take mail up to the documented 30 MB."""
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > MAX_INBOUND_BYTES:
        return None
    body = request.read(MAX_INBOUND_BYTES + 1)
    return None if len(body) > MAX_INBOUND_BYTES else body


def _read_large_body(request) -> bool:
    body = read_inbound_body(request)
    if body is None:
        return False
    # HttpRequest keeps a read body in _body and a parsed form in _post/_files; filling
    # them is how its own parsing would end, without the size check meant for forms.
    request._body = body
    if request.content_type == "multipart/form-data":
        request._post, request._files = _parse_form(request.META.get("CONTENT_TYPE", ""), body)
    return True


def _parse_form(content_type: str, body: bytes):
    form = BytesParser(policy=policy.HTTP).parsebytes(
        b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + body
    )
    post, files = QueryDict(mutable=True), MultiValueDict()
    for part in form.iter_parts() if form.is_multipart() else ():
        name = part.get_param("name", header="content-disposition")
        if not name:
            continue
        content = part.get_payload(decode=True) or b""
        filename = part.get_filename()
        if filename is not None:
            files.appendlist(name, SimpleUploadedFile(filename, content, part.get_content_type()))
        else:
            charset = part.get_content_charset() or "utf-8"
            post.appendlist(name, content.decode(charset, errors="replace"))
    post._mutable = False
    return post, files


def _configured(view_class) -> bool:
    """Safe by default: without the URL's credentials (and Mailgun's signing key) a
    provider view refuses everything, as the raw endpoint does without its secret
    (anymail itself would take unauthenticated posts, with a warning)."""
    anymail = getattr(settings, "ANYMAIL", {}) or {}
    if not anymail.get("WEBHOOK_SECRET"):
        return False
    return view_class is not MailgunInbound or bool(anymail.get("MAILGUN_WEBHOOK_SIGNING_KEY"))


def inbound_view(view_class):
    view = view_class.as_view()

    @csrf_exempt
    def wrapped(request, *args, **kwargs):
        if not _configured(view_class):
            return HttpResponseForbidden("This provider's inbound webhook is not configured.")
        if request.method == "POST" and not _read_large_body(request):
            return HttpResponse("Message too large.", status=413)
        return view(request, *args, **kwargs)

    wrapped.__name__ = view_class.__name__
    return wrapped


# --- Mailgun: signature, freshness, token used once ------------------------------------


def _token_key(token: str) -> str:
    return f"libdesk:mailgun-token:{token[:200]}"


class MailgunInbound(MailgunInboundWebhookView):
    def validate_request(self, request):
        # anymail's own validate_request (basic auth, HMAC) runs first, then this one.
        try:
            timestamp = int(request.POST["timestamp"])
        except (KeyError, ValueError) as error:
            raise AnymailWebhookValidationFailure("Mailgun timestamp missing") from error
        if abs(time.time() - timestamp) > _tickets_setting("WEBHOOK_MAX_AGE_SECONDS", 86400):
            raise AnymailWebhookValidationFailure("Mailgun webhook timestamp too old")
        request.libdesk_token_seen = cache.get(_token_key(request.POST["token"])) is not None


# --- Amazon SES through SNS: the message signature ---------------------------------------

_SIGNED_KEYS = {
    "Notification": ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"),
    "SubscriptionConfirmation": (
        "Message",
        "MessageId",
        "SubscribeURL",
        "Timestamp",
        "Token",
        "TopicArn",
        "Type",
    ),
}
_SIGNED_KEYS["UnsubscribeConfirmation"] = _SIGNED_KEYS["SubscriptionConfirmation"]


def _sns_url_allowed(url: str) -> bool:
    return bool(re.match(_tickets_setting("SNS_URL_PATTERN", SNS_URL_PATTERN), url or ""))


@lru_cache(maxsize=16)
def _signing_certificate(url: str):
    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - pattern-checked
        return x509.load_pem_x509_certificate(response.read(100_000))


def sns_signed_text(message: dict) -> bytes:
    keys = _SIGNED_KEYS.get(message.get("Type"), ())
    return "".join(
        f"{key}\n{message[key]}\n" for key in keys if message.get(key) is not None
    ).encode()


def verify_sns_message(message: dict) -> None:
    """Raise AnymailWebhookValidationFailure unless Amazon SNS signed ``message``."""
    algorithm = {"1": hashes.SHA1(), "2": hashes.SHA256()}.get(  # noqa: S303 - SNS v1
        str(message.get("SignatureVersion"))
    )
    url = message.get("SigningCertURL", "")
    if algorithm is None or not _sns_url_allowed(url) or message.get("Type") not in _SIGNED_KEYS:
        raise AnymailWebhookValidationFailure("SNS message not signed by Amazon SNS")
    try:
        certificate = _signing_certificate(url)
        certificate.public_key().verify(
            base64.b64decode(message.get("Signature", "")),
            sns_signed_text(message),
            padding.PKCS1v15(),
            algorithm,
        )
    except (InvalidSignature, ValueError, TypeError, OSError) as error:
        raise AnymailWebhookValidationFailure("SNS message signature is wrong") from error


class AmazonSESInbound(AmazonSESInboundWebhookView):
    """SES receipt rules with the SNS action (the mail inside the notification, up to
    SES's 150 KB for that action). anymail's own __init__ loads the AWS SDK, needed only
    for S3 actions and its way of confirming subscriptions; neither is used here."""

    def __init__(self, **kwargs):
        self.auto_confirm_enabled = True
        self.session_params, self.client_params = {}, {}
        self.kms_key_id, self.chunk_size = None, 1024 * 1024
        AnymailBaseWebhookView.__init__(self, **kwargs)

    def fetch_s3_chunks(self, bucket_name, object_key):
        raise AnymailConfigurationError(
            "Use an SNS receipt action (encoding BASE64) for the desk's SES rule, not S3."
        )

    def validate_request(self, request):
        # After anymail's checks (basic auth, SNS headers matching the body).
        verify_sns_message(self._parse_sns_message(request))

    def auto_confirm_sns_subscription(self, sns_message):
        """Confirm by loading SubscribeURL (signed by SNS, and an SNS address): what
        the AWS SDK's ConfirmSubscription does, without the SDK."""
        if not self.basic_auth:
            raise AnymailWebhookValidationFailure(
                "Unexpected SNS SubscriptionConfirmation: set ANYMAIL_WEBHOOK_SECRET and "
                "put it in the subscription's URL."
            )
        url = sns_message.get("SubscribeURL", "")
        if not _sns_url_allowed(url):
            raise AnymailWebhookValidationFailure("SubscribeURL is not an Amazon SNS address")
        with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - pattern-checked
            response.read(100_000)
        logger.info("Confirmed the SNS subscription of %s", sns_message.get("TopicArn"))


class SendGridInbound(SendGridInboundWebhookView):
    pass


class PostmarkInbound(PostmarkInboundWebhookView):
    pass


# --- The inbound signal: one service call -------------------------------------------------


def _raw_mail(event, esp_name: str) -> bytes:
    """The message as the provider received it, when it sends that; else anymail's
    message rebuilt from the provider's fields."""
    request_or_event = event.esp_event
    raw = None
    if esp_name == "Mailgun":
        raw = request_or_event.POST.get("body-mime")
    elif esp_name == "SendGrid":
        raw = request_or_event.POST.get("email")
    elif esp_name == "Postmark":
        raw = request_or_event.get("RawEmail")
    elif esp_name == "Amazon SES":
        content = request_or_event.get("content")
        action = request_or_event.get("receipt", {}).get("action", {})
        if content and action.get("encoding") == "BASE64":
            return base64.b64decode(content)
        raw = content
    if raw:
        return raw.encode("utf-8", "surrogateescape") if isinstance(raw, str) else raw
    return event.message.as_bytes()


def store_inbound(sender, event, esp_name, **kwargs):
    raw = _raw_mail(event, esp_name)
    request = event.esp_event if esp_name == "Mailgun" else None
    if request is not None and getattr(request, "libdesk_token_seen", False):
        # A replayed Mailgun token: only the very mail it came with is acknowledged.
        message_id = parse_message(raw).message_id
        if not message_id or not selectors.ticket_message_stored(message_id):
            raise AnymailWebhookValidationFailure("Mailgun token already used")
    message, _created = services.ticket_receive_email_once(raw=raw)
    if request is not None:
        cache.set(
            _token_key(request.POST["token"]),
            message.pk,
            _tickets_setting("WEBHOOK_MAX_AGE_SECONDS", 86400) * 2,
        )


def connect_signal():
    inbound.connect(store_inbound, dispatch_uid="libdesk-tickets-inbound")


mailgun = inbound_view(MailgunInbound)
sendgrid = inbound_view(SendGridInbound)
postmark = inbound_view(PostmarkInbound)
amazon_ses = inbound_view(AmazonSESInbound)
