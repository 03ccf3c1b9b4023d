"""Hosted providers' inbound webhooks, each request built the way that provider builds
it: Mailgun's HMAC over timestamp + token, Amazon SNS's RSA signature with a signing
certificate made here and served from a local HTTP server (the subscription is
confirmed by loading its SubscribeURL from that server), SendGrid's and Postmark's
basic-auth URLs. Valid, invalid and replayed requests for each; a 2xx only when the
mail is stored."""

import base64
import datetime
import hashlib
import hmac
import http.server
import json
import threading
import time
import uuid

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

from tests.factories import offline_ticket
from tickets import provider_inbound
from tickets.models import TicketMessage

pytestmark = pytest.mark.django_db

SIGNING_KEY = "key-mailgun-test-signing"
AUTH = {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(b"desk:hook-secret").decode()}
WRONG_AUTH = {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(b"desk:guess").decode()}


@pytest.fixture(autouse=True)
def _providers(settings):
    settings.ANYMAIL = {
        "WEBHOOK_SECRET": "desk:hook-secret",
        "MAILGUN_WEBHOOK_SIGNING_KEY": SIGNING_KEY,
    }


def reply(ticket, text="I will pick it up on Friday.", message_id=None) -> bytes:
    message_id = message_id or f"<{uuid.uuid4()}@mail.example.org>"
    return (
        f"From: Pat Patron <pat@example.org>\r\nTo: desk+{ticket.reference}@library.example\r\n"
        f"Subject: Re: [{ticket.reference}] Box list\r\nMessage-ID: {message_id}\r\n"
        "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
        f"{text}\r\n\r\nOn Mon, 7 Dec 2026 at 10:00, Desk <desk@library.example> wrote:\r\n"
        "> The box list is ready.\r\n> Desk\r\n"
    ).encode()


def patron_messages(ticket):
    return list(ticket.messages.filter(kind="patron").values_list("body", flat=True))


# --- Mailgun ------------------------------------------------------------------------------


def mailgun_fields(raw: bytes, *, timestamp=None, token=None, key=SIGNING_KEY):
    timestamp = str(int(timestamp or time.time()))
    token = token or uuid.uuid4().hex * 2
    signature = hmac.new(key.encode(), f"{timestamp}{token}".encode(), hashlib.sha256).hexdigest()
    return {
        "recipient": "desk@library.example",
        "sender": "pat@example.org",
        "subject": "Re: Box list",
        "body-mime": raw.decode(),
        "timestamp": timestamp,
        "token": token,
        "signature": signature,
    }


def test_mailgun_valid_invalid_and_replayed(client, special):
    ticket = offline_ticket(special)
    url = "/tickets/inbound/mailgun"
    first = mailgun_fields(reply(ticket))
    assert client.post(url, first, **AUTH).status_code == 200
    assert patron_messages(ticket)[1:] == ["I will pick it up on Friday."]

    forged = mailgun_fields(reply(ticket, "Forged"), key="not-the-key")
    assert client.post(url, forged, **AUTH).status_code == 400
    stale = mailgun_fields(reply(ticket, "Stale"), timestamp=time.time() - 3 * 86400)
    assert client.post(url, stale, **AUTH).status_code == 400
    assert client.post(url, mailgun_fields(reply(ticket, "No auth"))).status_code == 400
    # The same signed token again: the very same mail is acknowledged (stored once);
    # another mail under that token (Mailgun signs only timestamp + token) is refused.
    assert client.post(url, first, **AUTH).status_code == 200
    replayed = {**first, "body-mime": reply(ticket, "Replayed under a used token").decode()}
    assert client.post(url, replayed, **AUTH).status_code == 400
    assert patron_messages(ticket)[1:] == ["I will pick it up on Friday."]


def test_mailgun_takes_a_mail_over_djangos_form_limit(client, special, settings):
    ticket = offline_ticket(special)
    big = reply(ticket, "Scan attached.\r\n" + "x" * (3 * 1024 * 1024))
    assert len(big) > settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    assert client.post("/tickets/inbound/mailgun", mailgun_fields(big), **AUTH).status_code == 200
    assert ticket.messages.filter(kind="patron").count() == 2


# --- SendGrid Inbound Parse (raw and parsed) and Postmark: basic auth ------------------


def test_sendgrid_raw_and_parsed(client, special):
    ticket = offline_ticket(special)
    url = "/tickets/inbound/sendgrid"
    raw = reply(ticket)
    envelope = json.dumps({"from": "pat@example.org", "to": ["desk@library.example"]})
    assert (
        client.post(url, {"email": raw.decode(), "envelope": envelope}, **AUTH).status_code == 200
    )
    assert (
        client.post(url, {"email": raw.decode(), "envelope": envelope}, **AUTH).status_code == 200
    )
    assert (
        client.post(url, {"email": raw.decode(), "envelope": envelope}, **WRONG_AUTH).status_code
        == 400
    )
    parsed = {
        "headers": (
            f"From: Pat Patron <pat@example.org>\nTo: desk+{ticket.reference}@library.example\n"
            f"Subject: Re: [{ticket.reference}] Box list\nMessage-ID: <parsed-1@mail.example.org>\n"
        ),
        "from": "Pat Patron <pat@example.org>",
        "to": f"desk+{ticket.reference}@library.example",
        "subject": f"Re: [{ticket.reference}] Box list",
        "text": "Parsed fields work too.\n\nOn Mon, 7 Dec 2026, Desk wrote:\n> ready\n> Desk",
        "charsets": json.dumps(
            {"text": "utf-8", "subject": "utf-8", "from": "utf-8", "to": "utf-8"}
        ),
        "envelope": envelope,
    }
    assert client.post(url, parsed, **AUTH).status_code == 200
    assert patron_messages(ticket)[1:] == [
        "I will pick it up on Friday.",
        "Parsed fields work too.",
    ]


def test_postmark_with_and_without_raw_email(client, special):
    ticket = offline_ticket(special)
    url = "/tickets/inbound/postmark"
    raw = reply(ticket)
    payload = {
        "From": "pat@example.org",
        "FromFull": {"Email": "pat@example.org", "Name": "Pat Patron"},
        "To": f"desk+{ticket.reference}@library.example",
        "ToFull": [{"Email": f"desk+{ticket.reference}@library.example", "Name": ""}],
        "Subject": f"Re: [{ticket.reference}] Box list",
        "MessageID": "pm-1",
        "Headers": [{"Name": "Message-ID", "Value": "<pm-1@mail.example.org>"}],
        "TextBody": "Without the raw mail.\n\nOn Mon, 7 Dec 2026, Desk wrote:\n> ready\n> Desk",
        "Attachments": [],
    }

    def post(data, auth):
        return client.post(url, json.dumps(data), content_type="application/json", **auth)

    assert post(payload, AUTH).status_code == 200
    assert post({**payload, "RawEmail": raw.decode(), "MessageID": "pm-2"}, AUTH).status_code == 200
    assert post(payload, AUTH).status_code == 200  # replayed: stored once
    assert post({**payload, "TextBody": "Forged"}, WRONG_AUTH).status_code == 400
    assert patron_messages(ticket)[1:] == ["Without the raw mail.", "I will pick it up on Friday."]


# --- Amazon SES through SNS ------------------------------------------------------------------


class _SNSServer(http.server.BaseHTTPRequestHandler):
    certificate = b""
    confirmed: list[str] = []

    def do_GET(self):  # noqa: N802 - http.server's name
        if self.path == "/cert.pem":
            body = self.certificate
        else:
            type(self).confirmed.append(self.path)
            body = b"<ConfirmSubscriptionResponse/>"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def sns(settings):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sns.test")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    _SNSServer.certificate = certificate.public_bytes(serialization.Encoding.PEM)
    _SNSServer.confirmed = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _SNSServer)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    settings.TICKETS = {**settings.TICKETS, "SNS_URL_PATTERN": rf"^{base}/"}
    provider_inbound._signing_certificate.cache_clear()
    yield key, base
    server.shutdown()
    server.server_close()


def sns_message(key, base, kind, fields, version="1"):
    """Signed as Amazon SNS documents it: "Key\\nValue\\n" for the type's keys, sorted."""
    message = {
        "Type": kind,
        "MessageId": str(uuid.uuid4()),
        "TopicArn": "arn:aws:sns:eu-west-1:123456789012:desk-inbound",
        "Timestamp": "2026-12-07T10:00:00.000Z",
        "SignatureVersion": version,
        "SigningCertURL": f"{base}/cert.pem",
        **fields,
    }
    keys = (
        ["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"]
        if kind == "Notification"
        else ["Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"]
    )
    text = "".join(f"{k}\n{message[k]}\n" for k in keys if k in message)
    algorithm = hashes.SHA1() if version == "1" else hashes.SHA256()
    message["Signature"] = base64.b64encode(
        key.sign(text.encode(), padding.PKCS1v15(), algorithm)
    ).decode()
    return message


def post_sns(client, message, auth=AUTH):
    return client.post(
        "/tickets/inbound/amazon-ses",
        json.dumps(message),
        content_type="text/plain; charset=UTF-8",
        HTTP_X_AMZ_SNS_MESSAGE_TYPE=message["Type"],
        HTTP_X_AMZ_SNS_MESSAGE_ID=message["MessageId"],
        **auth,
    )


def ses_received(raw: bytes) -> str:
    return json.dumps(
        {
            "notificationType": "Received",
            "mail": {
                "source": "pat@example.org",
                "messageId": "ses-1",
                "timestamp": "2026-12-07T10:00:00.000Z",
            },
            "receipt": {
                "recipients": ["desk@library.example"],
                "action": {
                    "type": "SNS",
                    "encoding": "BASE64",
                    "topicArn": "arn:aws:sns:eu-west-1:1:desk",
                },
                "spamVerdict": {"status": "PASS"},
            },
            "content": base64.b64encode(raw).decode(),
        }
    )


def test_ses_subscription_is_confirmed_only_when_signed(client, sns):
    key, base = sns
    confirm = {
        "Message": "You have chosen to subscribe…",
        "Token": "tok-1",
        "SubscribeURL": f"{base}/confirm?Token=tok-1",
    }
    unsigned = sns_message(key, base, "SubscriptionConfirmation", confirm)
    unsigned["Signature"] = base64.b64encode(b"\x00" * 256).decode()
    assert post_sns(client, unsigned).status_code == 400
    assert _SNSServer.confirmed == []
    elsewhere = sns_message(
        key,
        base,
        "SubscriptionConfirmation",
        {**confirm, "SubscribeURL": "https://evil.example/confirm"},
    )
    assert post_sns(client, elsewhere).status_code == 400
    assert (
        post_sns(client, sns_message(key, base, "SubscriptionConfirmation", confirm)).status_code
        == 200
    )
    assert _SNSServer.confirmed == ["/confirm?Token=tok-1"]


def test_ses_notifications_valid_invalid_and_replayed(client, special, sns):
    key, base = sns
    ticket = offline_ticket(special)
    signed = sns_message(
        key,
        base,
        "Notification",
        {
            "Message": ses_received(reply(ticket)),
            "Subject": "Amazon SES Email Receipt Notification",
        },
        version="2",
    )
    assert post_sns(client, signed).status_code == 200
    assert patron_messages(ticket)[1:] == ["I will pick it up on Friday."]
    stored = TicketMessage.objects.get(ticket=ticket, kind="patron", original__gt="")
    with stored.original.open("rb") as handle:
        assert handle.read() == reply(ticket, message_id=stored.email_message_id)
    tampered = {**signed, "Message": ses_received(reply(ticket, "Tampered"))}
    assert post_sns(client, tampered).status_code == 400
    assert post_sns(client, signed, auth=WRONG_AUTH).status_code == 400
    assert post_sns(client, signed).status_code == 200  # SNS retrying: stored once
    assert patron_messages(ticket)[1:] == ["I will pick it up on Friday."]


def test_every_provider_view_refuses_everything_until_configured(client, special, settings):
    ticket = offline_ticket(special)
    settings.ANYMAIL = {"WEBHOOK_SECRET": "", "MAILGUN_WEBHOOK_SIGNING_KEY": SIGNING_KEY}
    raw = reply(ticket).decode()
    for provider, data in (
        ("mailgun", mailgun_fields(reply(ticket))),
        ("sendgrid", {"email": raw}),
        ("postmark", {"RawEmail": raw}),
    ):
        assert client.post(f"/tickets/inbound/{provider}", data).status_code == 403, provider
    settings.ANYMAIL = {"WEBHOOK_SECRET": "desk:hook-secret", "MAILGUN_WEBHOOK_SIGNING_KEY": ""}
    response = client.post("/tickets/inbound/mailgun", mailgun_fields(reply(ticket)), **AUTH)
    assert response.status_code == 403
    assert ticket.messages.filter(kind="patron").count() == 1
