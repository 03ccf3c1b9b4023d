"""Canned messages: placeholders, scoping, the operator's own ones, and the staff HTTP API."""

import json

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from chat import canned, selectors, services
from chat.exceptions import Forbidden, InvalidInput, NotFound
from chat.models import CannedMessage, Message
from tests.factories import (
    DepartmentFactory,
    OperatorFactory,
    UserFactory,
    canned_message,
    start_chat,
)

pytestmark = pytest.mark.django_db


CONTEXT = {
    "patron_name": "Pat",
    "operator_name": "Alice",
    "department": "Reference Desk",
    "library": "Oak Library",
}


# --- Placeholders ---------------------------------------------------------------------------


def test_fill_replaces_every_placeholder():
    body = "Hi {patron_name}, I'm {operator_name} at {department} of {library}."
    assert canned.fill(body, CONTEXT) == "Hi Pat, I'm Alice at Reference Desk of Oak Library."


def test_a_missing_patron_name_reads_there():
    reference = DepartmentFactory(name="Reference Desk", slug="reference")
    chat, _ = start_chat(reference, name="")
    context = canned.context_for(chat=chat, operator=None)
    assert canned.fill("Hi {patron_name}", context) == "Hi there"
    chat.patron_name = "   "
    assert canned.context_for(chat=chat)["patron_name"] == "there"


def test_doubled_braces_are_literal_and_html_stays_text():
    body = "Use {{braces}} like {{this}}, {patron_name}. <b>bold</b> <script>x()</script>"
    assert (
        canned.fill(body, CONTEXT)
        == "Use {braces} like {this}, Pat. <b>bold</b> <script>x()</script>"
    )
    assert canned.template_problems(body) == []


@pytest.mark.parametrize(
    "body",
    [
        "{patron_name.__class__}",
        "{patron_name[0]}",
        "{nope}",
        "{patron_name!r}",
        "{patron_name:>40}",
        "{}",
        "unclosed {patron_name",
        "stray } brace",
    ],
)
def test_fill_never_fails_and_never_evaluates(body):
    # These are refused on save, but text saved before validation must still fill.
    assert canned.template_problems(body)
    assert canned.fill(body, CONTEXT) == body  # left as written, nothing looked up
    assert canned.fill(body + " {library}", CONTEXT).endswith("Oak Library")


def test_unknown_placeholders_are_named_in_the_message():
    problems = canned.template_problems("Hi {name}, see {url} and {name}")
    assert len(problems) == 1
    assert "{name}" in problems[0] and "{url}" in problems[0]
    assert problems[0].count("{name}") == 1
    assert "{patron_name}" in problems[0]  # says what is allowed


def test_attribute_and_index_fields_are_refused():
    [problem] = canned.template_problems("{patron_name.upper} {library[0]}")
    assert "{patron_name.upper}" in problem and "{library[0]}" in problem


def test_format_specs_and_unbalanced_braces_are_refused_clearly():
    assert "no format" in canned.template_problems("{patron_name:>9}")[0]
    assert "write it twice" in canned.template_problems("{ oops")[0]


@pytest.mark.parametrize("shortcut", ["welcome", "/wel come", "/", " /x"])
def test_bad_shortcuts_are_refused(shortcut):
    with pytest.raises(ValidationError):
        canned.validate_shortcut(shortcut)


def test_good_shortcuts_pass():
    for shortcut in ("", "/welcome", "/ref-hours", "/é"):
        canned.validate_shortcut(shortcut)


# --- Saving ---------------------------------------------------------------------------------


def test_the_service_refuses_unknown_placeholders_with_a_clear_message():
    with pytest.raises(InvalidInput) as caught:
        canned_message(body="Hello {patron}!")
    assert "Unknown placeholder: {patron}" in caught.value.message
    assert not CannedMessage.objects.exists()


def test_scope_must_match_its_owner():
    reference = DepartmentFactory()
    with pytest.raises(InvalidInput, match="department"):
        services.canned_message_save(
            canned=CannedMessage(scope=CannedMessage.Scope.DEPARTMENT, title="x", body="y")
        )
    with pytest.raises(InvalidInput, match="Only a “One department”"):
        services.canned_message_save(
            canned=CannedMessage(
                scope=CannedMessage.Scope.GLOBAL, department=reference, title="x", body="y"
            )
        )


def test_a_body_longer_than_a_message_is_refused(settings):
    settings.LIBDESK = {**settings.LIBDESK, "MAX_MESSAGE_LENGTH": 20}
    with pytest.raises(InvalidInput, match="too long"):
        canned_message(body="x" * 21)


# --- Scoping --------------------------------------------------------------------------------


@pytest.fixture
def desk():
    reference = DepartmentFactory(name="Reference Desk", slug="reference")
    circulation = DepartmentFactory(name="Circulation", slug="circulation")
    special = DepartmentFactory(name="Special Collections", slug="special")
    alice = OperatorFactory(
        user=UserFactory(username="alice", first_name="Alice"), departments=[reference, circulation]
    )
    bob = OperatorFactory(
        user=UserFactory(username="bob", first_name="Bob"), departments=[reference]
    )
    rows = {
        "global": canned_message(title="Goodbye", body="Bye {patron_name}"),
        "reference": canned_message(
            title="OUX welcome",
            shortcut="/welcome",
            body="Hi {patron_name}, thanks for your question — I'm reading it over now.",
            department=reference,
        ),
        "circulation": canned_message(
            title="Renewals", body="Renew online.", department=circulation
        ),
        "special": canned_message(title="Archives", body="By appointment.", department=special),
        "alice": canned_message(title="Alice's own", body="From {operator_name}", operator=alice),
        "bob": canned_message(title="Bob's own", body="From {operator_name}", operator=bob),
    }
    return {"reference": reference, "special": special, "alice": alice, "bob": bob, "rows": rows}


def test_an_operator_sees_global_their_departments_and_their_own(desk, django_assert_num_queries):
    rows = desk["rows"]
    with django_assert_num_queries(1):
        seen = selectors.canned_for_operator(desk["alice"])
    assert {row.pk for row in seen} == {
        rows["global"].pk,
        rows["reference"].pk,
        rows["circulation"].pk,
        rows["alice"].pk,
    }
    bob_sees = {row.pk for row in selectors.canned_for_operator(desk["bob"])}
    assert bob_sees == {rows["global"].pk, rows["reference"].pk, rows["bob"].pk}
    assert rows["special"].pk not in bob_sees and rows["alice"].pk not in bob_sees


def test_the_open_chats_department_comes_first(desk):
    chat, _ = start_chat(desk["reference"], name="Pat")
    seen = selectors.canned_for_operator(desk["alice"], chat=chat)
    assert [row.title for row in seen] == ["OUX welcome", "Alice's own", "Renewals", "Goodbye"]


def test_a_superuser_sees_no_other_operators_personal_ones(desk):
    root = OperatorFactory(user=UserFactory(username="root", is_superuser=True))
    chat, _ = start_chat(desk["special"], name="Pat")
    titles = {row.title for row in selectors.canned_for_operator(root, chat=chat)}
    assert titles == {"Goodbye", "Archives"}


# --- Personal canned messages ------------------------------------------------------------------


def test_an_operator_creates_edits_and_deletes_their_own(desk):
    alice = desk["alice"]
    row = services.canned_personal_create(
        operator=alice, title=" Hours ", body="We open at 9.", shortcut="/hours"
    )
    assert (row.scope, row.operator_id, row.title) == ("personal", alice.pk, "Hours")
    services.canned_personal_update(
        operator=alice, canned_id=row.pk, title="Hours", body="We open at 8.", shortcut=""
    )
    row.refresh_from_db()
    assert (row.body, row.shortcut) == ("We open at 8.", "")
    services.canned_personal_delete(operator=alice, canned_id=row.pk)
    assert not CannedMessage.objects.filter(pk=row.pk).exists()


def test_nobody_edits_anothers_or_a_shared_canned_message(desk):
    rows, bob = desk["rows"], desk["bob"]
    for key in ("alice", "reference", "global"):
        with pytest.raises(Forbidden):
            services.canned_personal_update(
                operator=bob, canned_id=rows[key].pk, title="Mine", body="now"
            )
        with pytest.raises(Forbidden):
            services.canned_personal_delete(operator=bob, canned_id=rows[key].pk)
    rows["alice"].refresh_from_db()
    assert rows["alice"].title == "Alice's own"
    with pytest.raises(NotFound):
        services.canned_personal_delete(operator=bob, canned_id=999999)


# --- HTTP ---------------------------------------------------------------------------------


@pytest.fixture
def alice_client(client, desk):
    client.force_login(desk["alice"].user)
    return client


def test_the_list_is_filled_for_the_open_chat(alice_client, desk):
    chat, _ = start_chat(desk["reference"], name="Pat Doe")
    response = alice_client.get(reverse("chat:canned"), {"chat": str(chat.public_id)})
    assert response.status_code == 200
    items = response.json()["canned"]
    welcome = items[0]
    assert welcome["title"] == "OUX welcome" and welcome["shortcut"] == "/welcome"
    assert welcome["text"] == "Hi Pat Doe, thanks for your question — I'm reading it over now."
    assert welcome["editable"] is False
    own = next(item for item in items if item["title"] == "Alice's own")
    assert own["text"] == "From Alice" and own["editable"] is True
    assert "Archives" not in {item["title"] for item in items}


def test_a_chat_of_another_department_is_not_found(alice_client, desk):
    chat, _ = start_chat(desk["special"], name="Pat")
    response = alice_client.get(reverse("chat:canned"), {"chat": str(chat.public_id)})
    assert response.status_code == 404
    assert alice_client.get(reverse("chat:canned"), {"chat": "not-a-uuid"}).status_code == 404


def test_anonymous_and_non_operators_are_refused(client, desk):
    assert client.get(reverse("chat:canned")).status_code == 401
    client.force_login(UserFactory(username="visitor", is_staff=False))
    assert client.get(reverse("chat:canned")).status_code == 403
    assert client.get(reverse("chat:canned_manage")).status_code == 404


def test_json_create_edit_delete_with_csrf(desk):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(desk["alice"].user)
    url = reverse("chat:canned")
    body = json.dumps({"title": "Hours", "shortcut": "/hours", "body": "Open till {library}"})
    assert client.post(url, body, content_type="application/json").status_code == 403  # no token
    client.get(reverse("chat:canned_manage"))  # sets the CSRF cookie
    token = client.cookies["csrftoken"].value
    bad = client.post(
        url,
        json.dumps({"title": "X", "body": "{oops}"}),
        content_type="application/json",
        HTTP_X_CSRFTOKEN=token,
    )
    assert bad.status_code == 400 and "{oops}" in bad.json()["message"]
    created = client.post(url, body, content_type="application/json", HTTP_X_CSRFTOKEN=token)
    assert created.status_code == 201
    item_url = reverse("chat:canned_item", args=[created.json()["id"]])
    edited = client.post(
        item_url,
        json.dumps({"title": "Hours", "body": "Open till 8."}),
        content_type="application/json",
        HTTP_X_CSRFTOKEN=token,
    )
    assert edited.status_code == 200 and edited.json()["text"] == "Open till 8."
    others = reverse("chat:canned_item", args=[desk["rows"]["bob"].pk])
    assert client.delete(others, HTTP_X_CSRFTOKEN=token).status_code == 403
    assert client.delete(item_url, HTTP_X_CSRFTOKEN=token).status_code == 204
    assert not CannedMessage.objects.filter(title="Hours").exists()


def test_the_manage_pages_create_edit_and_delete(alice_client, desk):
    url = reverse("chat:canned_manage")
    page = alice_client.get(url)
    assert page.status_code == 200
    assert "Alice&#x27;s own" in page.content.decode() and "OUX welcome" in page.content.decode()
    assert "Bob&#x27;s own" not in page.content.decode()

    refused = alice_client.post(url, {"title": "Bad", "shortcut": "hours", "body": "Hi {who}"})
    assert refused.status_code == 400
    text = refused.content.decode()
    assert "Unknown placeholder: {who}" in text and "starts with “/”" in text

    assert (
        alice_client.post(
            url, {"title": "Hours", "shortcut": "/hours", "body": "Open at 9."}
        ).status_code
        == 302
    )
    row = CannedMessage.objects.get(title="Hours")
    assert (row.scope, row.operator_id) == ("personal", desk["alice"].pk)

    edit = reverse("chat:canned_edit", args=[row.pk])
    assert alice_client.get(edit).status_code == 200
    assert (
        alice_client.post(
            edit, {"title": "Hours", "shortcut": "/hours", "body": "Open at 8."}
        ).status_code
        == 302
    )
    row.refresh_from_db()
    assert row.body == "Open at 8."

    assert (
        alice_client.get(reverse("chat:canned_edit", args=[desk["rows"]["bob"].pk])).status_code
        == 404
    )
    assert (
        alice_client.post(reverse("chat:canned_delete", args=[desk["rows"]["bob"].pk])).status_code
        == 404
    )
    assert alice_client.post(reverse("chat:canned_delete", args=[row.pk])).status_code == 302
    assert not CannedMessage.objects.filter(pk=row.pk).exists()


def test_a_canned_body_with_html_is_sent_and_stored_as_text(
    desk, django_capture_on_commit_callbacks, captured_events
):
    chat, _ = start_chat(desk["reference"], name="Pat")
    services.chat_claim(chat_id=chat.pk, operator=desk["alice"])
    row = canned_message(
        title="Risky", body="<img src=x onerror=alert(1)> {patron_name}", operator=desk["alice"]
    )
    text = canned.fill(row.body, canned.context_for(chat=chat, operator=desk["alice"]))
    with django_capture_on_commit_callbacks(execute=True):
        message, _ = services.message_send(
            chat_id=chat.pk,
            body=text,
            client_id="c-1",
            sender=Message.Sender.OPERATOR,
            operator=desk["alice"],
        )
    assert message.body == "<img src=x onerror=alert(1)> Pat"
    [sent] = [event for _, event in captured_events if event["type"] == "message.new"]
    assert (
        sent["message"]["body"] == "<img src=x onerror=alert(1)> Pat"
    )  # unescaped text; shown with textContent


def test_seed_demo_has_the_oux_welcome():
    from django.core.management import call_command

    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115 - idempotent
    # In English and in Spanish (issue 19), once each however often the seed runs.
    welcome = CannedMessage.objects.get(title="OUX welcome", language="en")
    assert (welcome.scope, welcome.department.slug, welcome.shortcut) == (
        "department",
        "reference",
        "/welcome",
    )
    assert welcome.body == "Hi {patron_name}, thanks for your question — I'm reading it over now."
    bienvenida = CannedMessage.objects.get(title="OUX welcome", language="es")
    assert (bienvenida.department.slug, bienvenida.shortcut) == ("reference", "/bienvenida")
    assert bienvenida.body.startswith("Hola, {patron_name}: gracias por su pregunta.")
    assert CannedMessage.objects.filter(scope="global").count() >= 2
