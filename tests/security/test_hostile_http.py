"""Real hostile input (tests/realworld.py: the Big List of Naughty Strings and what it
leaves out) through every text input of the HTTP side: JSON fields, form fields and
query parameters. Each value is stored exactly as sent (surrounding whitespace aside,
which every text field trims), or refused with a clear error naming what is wrong;
never a 500, and always escaped on the staff pages that show it.

One test per input loops over the whole corpus (a few seconds each), naming the string
that failed, instead of 520 database-heavy test cases per input.
"""

import json
from urllib.parse import quote

import pytest
from django.test import Client
from django.utils.html import escape

from chat import services
from chat.models import CannedMessage, Chat
from chat.text import refused_character
from tests.factories import (
    DepartmentFactory,
    OperatorFactory,
    UserFactory,
    offline_ticket,
    start_chat,
)
from tests.realworld import HOSTILE_EXTRAS, hostile_strings
from tickets.models import Ticket

HOSTILE = hostile_strings()


def refused_by_rule(value: str) -> bool:
    """Values the desk refuses whatever the field (NUL, lone surrogates: chat.text)."""
    return refused_character(value) is not None


def browser_sendable(value: str) -> bool:
    """A form post or URL cannot carry a lone surrogate (a browser encodes it as U+FFFD
    before sending); JSON can (``JSON.stringify`` writes ``\\ud800``)."""
    return not any(0xD800 <= ord(c) <= 0xDFFF for c in value)


def post_json(client, url, data):
    """JSON as a browser's JSON.stringify writes it: lone surrogates as \\uXXXX escapes."""
    return client.post(url, data=json.dumps(data), content_type="application/json")


def hostile_query(url, **params):
    """``url`` with query parameters percent-encoded byte for byte (a surrogate as its
    raw UTF-8-like bytes, as a hostile client can send it)."""
    query = "&".join(
        f"{name}={quote(value.encode('utf-8', 'surrogatepass'), safe='')}"
        for name, value in params.items()
    )
    return f"{url}?{query}"


class Failures:
    """Collects what went wrong per string, so one run reports every failing value."""

    def __init__(self, where):
        self.where, self.found = where, []

    def add(self, value, problem):
        self.found.append(f"{value[:60]!r} ({len(value)} chars): {problem}")

    def check(self):
        assert not self.found, f"{self.where}: {len(self.found)} failures:\n" + "\n".join(
            self.found[:20]
        )


def storable(value: str, limit: int = 4000) -> bool:
    """A value any free-text field of that length must take."""
    return not refused_by_rule(value) and 0 < len(value.strip()) <= limit


def check_answer(failures, value, response, stored=None, must_store=False):
    """The answer to one hostile value: a success whose stored text equals the value
    (trimmed), or a 4xx JSON error with a code and a message; a value the rule refuses
    must get ``bad_characters``, and one it does not must not."""
    if response.status_code >= 500:
        failures.add(value, f"HTTP {response.status_code}")
        return False
    if response.status_code >= 400:
        if must_store:
            failures.add(value, f"refused (HTTP {response.status_code}): {response.content[:80]}")
            return False
        try:
            body = response.json()
        except ValueError:
            failures.add(value, f"HTTP {response.status_code} without a JSON error")
            return False
        if not (body.get("code") and body.get("message")):
            failures.add(value, f"an error without code and message: {body}")
        elif refused_by_rule(value) and body["code"] != "bad_characters":
            failures.add(value, f"refused as {body['code']!r}, not bad_characters")
        elif not refused_by_rule(value) and body["code"] == "bad_characters":
            failures.add(value, "refused as bad_characters, yet it holds none")
        return False
    if refused_by_rule(value):
        failures.add(value, f"accepted (HTTP {response.status_code}) despite NUL/surrogate")
        return False
    if stored is not None:
        got = stored()
        if got != value.strip():
            failures.add(value, f"stored as {got[:60]!r}")
            return False
    return True


@pytest.fixture
def desk(db, settings):
    settings.LIBDESK_LIMITS = {**settings.LIBDESK_LIMITS, "CHATS_PER_ADDRESS": 10**6}
    settings.TICKETS = {**settings.TICKETS, "OFFLINE_FORM_LIMIT": 10**6}
    # Alice's dashboard counts as live for the whole loop, however slow the machine.
    settings.LIBDESK = {**settings.LIBDESK, "HEARTBEAT_SECONDS": 3600}
    reference = DepartmentFactory(name="Reference Desk", slug="reference")
    alice = OperatorFactory(
        user=UserFactory(username="alice", first_name="Alice"), departments=[reference]
    )
    services.presence_set(operator=alice, status="online")
    services.connection_open(operator=alice, channel_name="hostile-input-test")
    staff = Client()
    staff.force_login(alice.user)
    return reference, alice, staff


def json_fields_corpus(client, url, fields, base, read_back, limits):
    """Every string in each of ``fields`` of a JSON POST (the rest from ``base(n)``):
    stored as sent (``read_back(answer, field)``) when storable within the field's
    limit, else refused clearly (check_answer)."""
    for field in fields:
        failures = Failures(f"POST {url} {field}")
        for n, value in enumerate(HOSTILE):
            response = post_json(client, url, {**base(n), field: value})

            def stored(response=response, field=field):
                return read_back(response.json(), field)

            must = storable(value, limits.get(field, 4000))
            check_answer(failures, value, response, stored, must_store=must)
        failures.check()


def test_chat_start_json_fields(desk):
    def read_back(answer, field):
        chat = Chat.objects.get(public_id=answer["chat"])
        return chat.patron_name if field == "name" else chat.messages.get(seq=1).body

    json_fields_corpus(
        Client(),
        "/widget/reference/chats",
        ("question", "name"),
        lambda n: {"question": "Where are the atlases?", "name": "Pat"},
        read_back,
        {"name": 80},
    )


def test_chat_start_email_and_page_url_never_fail(desk):
    """An email address is checked (most of the list is refused as bad_email); a page
    address loses its query (privacy) but never breaks the start."""
    patron = Client()
    for field in ("email", "page_url", "client_id"):
        failures = Failures(f"chat start {field}")
        for value in HOSTILE:
            response = post_json(
                patron, "/widget/reference/chats", {"question": "Atlases?", field: value}
            )
            check_answer(failures, value, response)
        failures.check()


def test_offline_question_json_fields(desk):
    def read_back(answer, field):
        ticket = Ticket.objects.get(pk=int(answer["ticket"][3:]))
        return ticket.patron_name if field == "name" else ticket.question

    patron = Client()
    url = "/tickets/widget/reference/question"
    json_fields_corpus(
        patron,
        url,
        ("question", "name"),
        lambda n: {"question": "The 1902 atlas?", "name": "Pat", "email": f"p{n}@example.org"},
        read_back,
        {"name": 80},
    )
    failures = Failures(f"POST {url} email")
    for value in HOSTILE:
        response = post_json(patron, url, {"question": "Atlases?", "email": value})
        check_answer(failures, value, response)
    failures.check()


def test_canned_message_json_fields_and_the_manage_page_escapes_them(desk):
    _reference, _alice, staff = desk
    for field in ("title", "body"):
        failures = Failures(f"POST /dashboard/canned/ {field}")
        for value in HOSTILE:
            data = {"title": "Hours", "body": "We open at 9.", field: value}
            response = post_json(staff, "/dashboard/canned/", data)

            def stored(response=response, field=field):
                return getattr(CannedMessage.objects.get(pk=response.json()["id"]), field)

            limit = CannedMessage._meta.get_field(field).max_length or 4000
            # Braces in a body are placeholders, checked (invalid_canned names a wrong one).
            must = storable(value, limit) and not (field == "body" and "{" in value)
            if check_answer(failures, value, response, stored, must_store=must):
                CannedMessage.objects.filter(pk=response.json()["id"]).delete()
        failures.check()
    failures = Failures("POST /dashboard/canned/ shortcut")
    for value in HOSTILE:
        response = post_json(
            staff, "/dashboard/canned/", {"title": "T", "body": "B", "shortcut": value}
        )
        if check_answer(failures, value, response):
            CannedMessage.objects.filter(pk=response.json()["id"]).delete()
    failures.check()


def test_the_staff_pages_show_stored_hostile_text_escaped(desk, django_capture_on_commit_callbacks):
    """What a patron typed, on the ticket page and the after-chat form: the escaped
    text is there, and no ``<script`` other than the page's own."""
    reference, _alice, staff = desk
    failures = Failures("staff pages")
    storable = [v for v in HOSTILE if not refused_by_rule(v) and len(v) <= 4000 and v.strip()]
    own_scripts = None
    for n, value in enumerate(storable):
        with django_capture_on_commit_callbacks(execute=True):
            ticket = offline_ticket(reference, question=value, name=value[:80].strip() or "Pat")
        html = staff.get(f"/tickets/{ticket.reference}/").content.decode()
        if escape(value.strip()) not in html:
            failures.add(value, "not on the ticket page as escaped text")
        scripts = html.lower().count("<script")
        own_scripts = scripts if own_scripts is None else own_scripts
        if scripts != own_scripts:
            failures.add(value, f"{scripts} <script> tags on the ticket page, not {own_scripts}")
        if n % 8 == 0:  # the after-chat form too (a chat per string would take minutes)
            chat, _token = start_chat(reference, question=value, client_id=f"c-{n}")
            services.chat_end(chat_id=chat.pk, by="patron")
            page = staff.get(f"/analytics/chats/{chat.public_id}/form").content.decode()
            if escape(value.strip()) not in page:
                failures.add(value, "not in the after-chat form as escaped text")
    failures.check()


def test_ticket_search_and_filters_never_fail(desk):
    """Ticket search with every string, Unicode digits (⁰⁴⁵ once gave a 500) among them:
    an answer page, whatever was typed; the term shown back escaped."""
    _reference, _alice, staff = desk
    failures = Failures("GET /tickets/?q=")
    names = ("q", "q", "view", "status", "department", "page")
    for n, value in enumerate((*HOSTILE, "⁰⁴⁵", "₀₁₂", "١٢٣", "9" * 40)):
        name = names[n % len(names)]  # every string in q, and each other filter in turn
        response = staff.get(hostile_query("/tickets/", **{name: value}))
        if response.status_code >= 500:
            failures.add(value, f"{name}: HTTP {response.status_code}")
        if name == "q" and response.status_code != 200:
            failures.add(value, f"q: HTTP {response.status_code}, not the list")
    failures.check()


def test_unicode_digits_search_the_text_not_the_ticket_number(desk):
    reference, _alice, staff = desk
    hit = offline_ticket(reference, question="Do you hold issue ⁰⁴⁵ of the gazette?")
    response = staff.get("/tickets/", {"q": "⁰⁴⁵"})
    assert response.status_code == 200
    assert hit.reference in response.content.decode()


def test_report_list_and_form_query_parameters_never_fail(desk):
    """Every query parameter the report, the export, the entry form, the pending list
    and the canned list read, with every string."""
    _reference, _alice, staff = desk
    pages = {
        "/analytics/": ("start", "end", "department", "location", "mode", "staff", "question_type"),
        "/analytics/export.csv": ("start", "end", "department", "mode"),
        "/analytics/new/": ("ticket", "question", "saved"),
        "/analytics/pending/": ("fragment",),
        "/dashboard/canned/": ("chat",),
    }
    inputs = [(url, name) for url, names in pages.items() for name in names]
    extras = HOSTILE[-len(HOSTILE_EXTRAS) :]
    # Each string to one input in turn (the corpus covers every input ~30 times over),
    # and the extras (NUL, surrogates, over-long…) to every input.
    requests = [(inputs[n % len(inputs)], value) for n, value in enumerate(HOSTILE)]
    requests += [(where, value) for where in inputs for value in extras]
    failures = Failures("query parameters")
    for (url, name), value in requests:
        response = staff.get(hostile_query(url, **{name: value}))
        if response.status_code >= 500:
            failures.add(value, f"{url} {name}: HTTP {response.status_code}")
    failures.check()


def test_staff_form_fields_store_or_refuse(desk):
    """The ticket page's reply and note forms and the Reference Analytics entry form,
    posted as a browser does (form-encoded: no lone surrogates; NUL is refused by the
    field, with the form shown again)."""
    reference, _alice, staff = desk
    ticket = offline_ticket(reference)
    failures = Failures("ticket note form")
    for value in filter(browser_sendable, HOSTILE):
        before = ticket.messages.count()
        response = staff.post(f"/tickets/{ticket.reference}/note", {"body": value})
        if response.status_code >= 500:
            failures.add(value, f"HTTP {response.status_code}")
            continue
        added = ticket.messages.count() - before
        if refused_by_rule(value) or not value.strip() or len(value.strip()) > 4000:
            if added:
                failures.add(value, "stored, though it should be refused")
            elif response.status_code == 302:
                failures.add(value, "refused without a form error")
        elif not added:
            failures.add(value, f"not stored (HTTP {response.status_code})")
        elif ticket.messages.order_by("-pk").first().body != value.strip():
            failures.add(value, "stored altered")
    failures.check()


def test_deeply_nested_and_huge_json_bodies_are_refused_clearly(desk):
    _reference, _alice, staff = desk
    patron = Client()
    nested = '{"question":' + "[" * 100_000 + "]" * 100_000 + "}"
    for client, url in (
        (patron, "/widget/reference/chats"),
        (patron, "/tickets/widget/reference/question"),
        (patron, "/tickets/widget/email"),
        (staff, "/dashboard/canned/"),
        (staff, "/tickets/api/from-chat"),
    ):
        for body in (nested, '{"question": "' + "a" * 1_000_000 + '"}', "[" * 2000):
            response = client.post(url, data=body, content_type="application/json")
            assert 400 <= response.status_code < 500, (url, body[:20], response.status_code)
            error = response.json()
            assert error.get("code") and error.get("message"), (url, body[:20], error)


def test_a_ticket_search_the_desk_cannot_store_says_so(desk):
    """NUL in the search box: the list says the search was not applied (no 500, no
    silent 'all tickets' as if it had matched)."""
    _reference, _alice, staff = desk
    page = staff.get("/tickets/?q=atlas%00").content.decode()
    assert "Search: Null characters are not allowed. (filters not applied)" in page


def test_admin_forms_store_hostile_text_or_say_why(desk):
    """The Django admin's canned message form (title, body) and its changelist search:
    every string a browser can send is saved exactly, or the form comes back with an
    error under the field (NUL), never a 500."""
    from tests.factories import desk_admin_user

    admin = Client()
    admin.force_login(desk_admin_user(username="dana", is_superuser=True))
    failures = Failures("admin canned message form")
    for n, value in enumerate(filter(browser_sendable, HOSTILE[::8] + HOSTILE_EXTRAS)):
        title = f"Admin {n}"
        data = {"title": title, "shortcut": "", "scope": "global", "body": value}
        response = admin.post("/admin/chat/cannedmessage/add/", data)
        if response.status_code >= 500:
            failures.add(value, f"HTTP {response.status_code}")
            continue
        saved = CannedMessage.objects.filter(title=title).first()
        if refused_by_rule(value) or len(value.strip()) > 4000 or "{" in value:
            if (
                saved is None
                and response.status_code == 200
                and b"errorlist" not in response.content
            ):
                failures.add(value, "refused without an error shown")
        elif saved is None:
            failures.add(value, f"not saved (HTTP {response.status_code})")
        elif saved.body != value.strip():
            failures.add(value, f"saved as {saved.body[:50]!r}")
        search = admin.get(hostile_query("/admin/chat/cannedmessage/", q=value))
        if search.status_code >= 500:
            failures.add(value, f"admin search: HTTP {search.status_code}")
    failures.check()


def test_file_names_and_client_ids_of_uploads(desk, settings, tmp_path):
    """A patron's file with every string as its name (a name is cleaned of paths and
    control characters, by design: it becomes a file name) and as its client id (kept
    as sent, or refused clearly): never a 500."""
    from django.core.exceptions import SuspiciousFileOperation
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tests.chat.test_attachments import PNG

    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.ATTACHMENTS = {**settings.ATTACHMENTS, "PER_CHAT": 10**6, "PER_MINUTE": 10**6}
    reference, alice, _staff = desk
    chat, token = start_chat(reference, question="A map?", client_id="u-0")
    services.chat_claim(chat_id=chat.pk, operator=alice)
    patron = Client()
    failures = Failures("POST /widget/attachments")
    for n, value in enumerate(filter(browser_sendable, HOSTILE[::4] + HOSTILE_EXTRAS)):
        for field in ("name", "client_id"):
            name = value if field == "name" else "map.png"
            client_id = value[:64] if field == "client_id" else f"u-{field}-{n}"
            try:
                file = SimpleUploadedFile(name, PNG, "image/png")
            except SuspiciousFileOperation:
                continue  # "..", "/": no name at all (Django's parser drops such a part too)
            response = patron.post(
                "/widget/attachments",
                {"file": file, "client_id": client_id},
                headers={"Authorization": f"Bearer {token}"},
            )
            if response.status_code >= 500:
                failures.add(value, f"{field}: HTTP {response.status_code}")
            elif response.status_code >= 400:
                body = response.json()
                if field == "client_id" and refused_by_rule(client_id):
                    if body.get("code") != "bad_characters":
                        failures.add(value, f"client_id refused as {body.get('code')}")
                elif not (body.get("code") and body.get("message")):
                    failures.add(value, f"{field}: refused without a reason: {body}")
                elif field == "client_id" and client_id.strip() and not refused_by_rule(value):
                    failures.add(value, f"client_id refused: {body}")
            elif field == "client_id" and response.json()["message"]["client_id"] != client_id:
                failures.add(value, "client_id altered")
    failures.check()
