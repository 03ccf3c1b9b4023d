"""The chat in the patron's language (issue 19): the widget's language negotiation, the
chat's recorded language, its system lines, error frames, the transcript email, canned
messages and the departments' texts per language."""

import pytest
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.core import mail
from django.urls import reverse
from django.utils import translation

from chat import services, transcripts
from chat.models import Chat, Department
from libdesk.asgi import application
from tests.factories import (
    DepartmentFactory,
    OperatorFactory,
    UserFactory,
    canned_message,
    start_chat,
)

ORIGIN = (b"origin", b"http://127.0.0.1:8000")
HOST = (b"host", b"127.0.0.1:8000")  # the desk's own origin is the one the socket reached
TIMEOUT = 10


@pytest.fixture
def reference(db):
    return DepartmentFactory(name="Reference Desk", slug="reference")


@pytest.fixture
def alicia(reference):
    user = UserFactory(username="alicia", first_name="Alicia")
    return OperatorFactory(user=user, departments=[reference])


def _widget(client, query="", **headers):
    response = client.get(reverse("chat:widget", args=["reference"]) + query, **headers)
    assert response.status_code == 200
    return response, response.content.decode()


# --- The widget's language -----------------------------------------------------------------


@pytest.mark.parametrize(
    "query, accept, lang, direction, heading",
    [
        ("?lang=es", "", "es", "ltr", "Pregunte a un bibliotecario"),
        ("?lang=es-MX", "ar", "es", "ltr", "Pregunte a un bibliotecario"),  # lang wins
        ("?lang=ar", "es", "ar", "rtl", "اسأل أمين المكتبة"),
        ("", "ar-SA,ar;q=0.9,en;q=0.5", "ar", "rtl", "اسأل أمين المكتبة"),  # the browser's
        ("", "es-419,es;q=0.9", "es", "ltr", "Pregunte a un bibliotecario"),
        ("?lang=fr", "es", "en", "ltr", "Ask a librarian"),  # unknown: the library's default
        ("?lang=<script>", "", "en", "ltr", "Ask a librarian"),
        ("", "fr-CA,fr;q=0.9", "en", "ltr", "Ask a librarian"),
    ],
)
def test_the_widget_speaks_the_language_it_is_asked_for(
    client, reference, query, accept, lang, direction, heading
):
    response, page = _widget(client, query, HTTP_ACCEPT_LANGUAGE=accept)
    assert f'<html lang="{lang}" dir="{direction}">' in page
    assert f'<h2 id="form-title">{heading}</h2>' in page
    assert response["Content-Language"] == lang
    assert "Accept-Language" in response["Vary"]
    # The modules' strings come from that language's catalog: a script of the desk's own.
    assert f'<script src="/i18n/{lang}/' in page and "catalog.js" in page


def test_an_unknown_language_falls_back_to_the_librarys_default(client, reference, settings):
    settings.LANGUAGE_CODE = "es"
    settings.MODELTRANSLATION_DEFAULT_LANGUAGE = "es"
    _, page = _widget(client, "?lang=de")
    assert '<html lang="es" dir="ltr">' in page
    assert "Iniciar chat" in page


def test_the_patrons_language_choice_offers_every_shipped_language(client, reference):
    _, page = _widget(client, "?lang=ar")
    assert '<option value="ar" lang="ar" dir="rtl" selected>العربية</option>' in page
    assert '<option value="es" lang="es" dir="ltr">Español</option>' in page
    assert '<option value="en" lang="en" dir="ltr">English</option>' in page


def test_the_javascript_catalog_is_a_cacheable_script_per_language(client):
    from libdesk.i18n import catalog_version

    url = reverse("javascript_catalog", kwargs={"lang": "es", "version": catalog_version()})
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    assert "max-age=604800" in response["Cache-Control"]
    assert "public" in response["Cache-Control"]
    body = response.content.decode()
    assert '"Esperando a un bibliotecario."' in body
    assert "Content-Security-Policy" in response  # the same policy: script-src 'self'
    assert "script-src 'self'" in response["Content-Security-Policy"]
    assert client.get(url.replace("/es/", "/xx/")).status_code == 404
    assert client.get(url.replace("/es/", "/es-MX/")).status_code == 404


# --- The chat's language ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("accept", "recorded"), [("es", "es"), ("es-MX,es;q=0.9", "es"), ("xx", None), ("", None)]
)
def test_a_chat_records_the_widgets_language(client, reference, alicia, settings, accept, recorded):
    """The view passes the request's language on; chat_start alone keeps it to a shipped
    one (None here: the library's default)."""
    services.connection_open(operator=alicia, channel_name="t-alicia")
    services.presence_set(operator=alicia, status="online")
    response = client.post(
        reverse("chat:chat_start", args=["reference"]),
        {"question": "¿Tienen atlas del siglo XIX?", "name": "Lupe"},
        content_type="application/json",
        HTTP_ACCEPT_LANGUAGE=accept,
    )
    assert response.status_code == 201
    chat = Chat.objects.get(public_id=response.json()["chat"])
    assert chat.language == (recorded or settings.LANGUAGE_CODE)


def test_system_lines_are_written_in_the_chats_language(reference, alicia):
    chat, _ = start_chat(reference, question="¿Dónde están los mapas?", language="es")
    with translation.override("en"):  # whatever the operator's own language
        services.chat_claim(chat_id=chat.pk, operator=alicia)
        services.chat_end(chat_id=chat.pk, by="patron")
    bodies = list(chat.messages.filter(sender="system").values_list("body", flat=True))
    assert bodies == ["Alicia se ha unido al chat.", "El usuario terminó el chat."]

    arabic, _ = start_chat(reference, language="ar", client_id="q-2")
    services.chat_claim(chat_id=arabic.pk, operator=alicia)
    assert arabic.messages.get(sender="system").body == "انضم Alicia إلى المحادثة."


def test_a_chat_without_a_known_language_is_the_librarys_default(reference, alicia):
    chat, _ = start_chat(reference, language="tlh")
    assert chat.language == "en"
    services.chat_claim(chat_id=chat.pk, operator=alicia)
    assert chat.messages.get(sender="system").body == "Alicia has joined the chat."


async def _patron_socket(query):
    communicator = WebsocketCommunicator(application, "/ws/patron/" + query, headers=[HOST, ORIGIN])
    connected, _ = await communicator.connect(timeout=TIMEOUT)
    assert connected
    return communicator


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "query, message",
    [
        ("?lang=es", "Esa trama no es JSON válido."),
        ("?lang=ar", "هذا الإطار ليس JSON صالحًا."),
        ("", "That frame is not valid JSON."),
    ],
)
async def test_error_frames_keep_their_code_and_speak_the_sockets_language(query, message):
    socket = await _patron_socket(query)
    await socket.send_to(text_data="{not json")
    frame = await socket.receive_json_from(timeout=TIMEOUT)
    assert frame == {"type": "error", "code": "bad_json", "message": message}
    await socket.send_json_to({"type": "hello", "token": "nobody's"})
    frame = await socket.receive_json_from(timeout=TIMEOUT)
    assert frame["code"] == "bad_token"
    await socket.disconnect()


@pytest.mark.django_db(transaction=True)
async def test_a_refused_message_is_explained_in_spanish(reference):
    from channels.db import database_sync_to_async

    chat, token = await database_sync_to_async(start_chat)(reference, language="es")
    socket = await _patron_socket("?lang=es")
    await socket.send_json_to({"type": "hello", "token": token, "last_seq": 0})
    welcome = await socket.receive_json_from(timeout=TIMEOUT)
    assert welcome["type"] == "welcome" and welcome["chat"]["language"] == "es"
    await socket.send_json_to({"type": "message.send", "client_id": "c-1", "body": "   "})
    while (frame := await socket.receive_json_from(timeout=TIMEOUT))["type"] != "error":
        pass
    assert frame["code"] == "empty"
    assert frame["message"] == "Un mensaje no puede estar vacío."
    assert frame["client_id"] == "c-1"
    await socket.disconnect()


# --- Emails --------------------------------------------------------------------------------------


def test_a_spanish_patrons_transcript_is_in_spanish(reference, alicia, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    chat, _ = start_chat(reference, question="¿Puedo renovar un préstamo?", language="es")
    services.chat_claim(chat_id=chat.pk, operator=alicia)
    services.message_send(
        chat_id=chat.pk,
        body="Sí, desde su cuenta.",
        client_id="o-1",
        sender="operator",
        operator=alicia,
    )
    services.chat_end(chat_id=chat.pk, by="patron")
    with translation.override("en"):
        transcripts.send(chat_id=chat.pk, to="lupe@example.org")
    [email] = mail.outbox
    started = chat.created_at
    months = [
        "enero",
        "febrero",
        "marzo",
        "abril",
        "mayo",
        "junio",
        "julio",
        "agosto",
        "septiembre",
        "octubre",
        "noviembre",
        "diciembre",
    ]
    month = months[started.month - 1]
    assert email.subject.startswith("Su chat con Reference Desk (")
    assert month in email.subject
    assert "Su chat con Reference Desk de " in email.body
    assert f"Iniciado el {started.day} de {month} de {started.year}" in email.body
    assert "Alicia se ha unido al chat." in email.body
    assert "Alicia: Sí, desde su cuenta." in email.body
    assert "Gracias por consultar a" in email.body
    html = email.alternatives[0][0]
    assert '<html lang="es" dir="ltr">' in html


def test_an_arabic_transcript_is_right_to_left(reference, alicia, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    chat, _ = start_chat(reference, language="ar")
    services.chat_end(chat_id=chat.pk, by="patron")
    transcripts.send(chat_id=chat.pk, to="pat@example.org")
    [email] = mail.outbox
    assert email.subject.startswith("محادثتك مع Reference Desk")
    assert '<html lang="ar" dir="rtl">' in email.alternatives[0][0]
    assert "أنهى المستفيد المحادثة." in email.body


# --- Canned messages and the departments' texts -------------------------------------------


def test_the_canned_picker_offers_the_chats_language_first(reference, alicia):
    from chat import selectors

    canned_message(title="OUX welcome", body="Hi!", department=reference, language="en")
    canned_message(title="OUX welcome", body="¡Hola!", department=reference, language="es")
    canned_message(title="Any language", body="🙂", language="")
    canned_message(title="Adiós", body="Adiós", language="es")
    spanish, _ = start_chat(reference, language="es")
    english, _ = start_chat(reference, language="en", client_id="q-2")

    def picker(chat):
        return [(r.title, r.language) for r in selectors.canned_for_operator(alicia, chat=chat)]

    assert picker(spanish) == [
        ("OUX welcome", "es"),
        ("Adiós", "es"),
        ("Any language", ""),
        ("OUX welcome", "en"),
    ]
    assert picker(english) == [
        ("OUX welcome", "en"),
        ("Any language", ""),
        ("OUX welcome", "es"),
        ("Adiós", "es"),
    ]


def test_department_texts_per_language_fall_back_to_the_default(client, reference):
    Department.objects.filter(pk=reference.pk).update(
        greeting_en="We answer live.",
        greeting_es="Respondemos en directo.",
        greeting_ar="",
        offline_message_en="Back at 9.",
        offline_message_es="",
    )
    _, spanish = _widget(client, "?lang=es")
    _, arabic = _widget(client, "?lang=ar")
    assert '<p class="greeting">Respondemos en directo.</p>' in spanish
    assert '<p class="greeting">We answer live.</p>' in arabic  # none in Arabic: English
    status = client.get(
        reverse("chat:department_status", args=["reference"]), HTTP_ACCEPT_LANGUAGE="es"
    ).json()
    assert status["greeting"] == "Respondemos en directo."
    assert status["offline_message"] == "Back at 9."
    Department.objects.filter(pk=reference.pk).update(offline_message_en="")
    status = client.get(
        reverse("chat:department_status", args=["reference"]), HTTP_ACCEPT_LANGUAGE="es"
    ).json()
    assert status["offline_message"] == "En este momento no hay nadie disponible para chatear."


# --- Real-world input on every language input ------------------------------------------


def test_any_lang_or_accept_language_gives_a_shipped_language(client, reference):
    """The naughty strings (and the extras browsers still send) as ``?lang=`` and as
    ``Accept-Language``: the widget renders every time, in a language the desk ships."""
    from urllib.parse import quote

    from tests.realworld import hostile_strings

    shipped = {"en", "es", "ar"}
    for value in hostile_strings():
        query = "?lang=" + quote(value.encode("utf-8", "surrogatepass"), safe="")
        response = client.get(reverse("chat:widget", args=["reference"]) + query)
        if len(query) > settings.LIBDESK["MAX_URL_BYTES"]:  # refused whole, as any long address
            assert response.status_code == 414, value[:40]
        else:
            assert response.status_code == 200, value
            assert response["Content-Language"] in shipped, value
        header = value.encode("utf-8", "surrogatepass").decode("latin-1")[:2000]
        response = client.get(
            reverse("chat:widget", args=["reference"]), HTTP_ACCEPT_LANGUAGE=header
        )
        assert response.status_code == 200, value
        assert response["Content-Language"] in shipped, value


@pytest.mark.django_db(transaction=True)
async def test_any_socket_lang_gives_a_shipped_language():
    from urllib.parse import quote

    from tests.realworld import naughty_strings

    expected = {
        "That frame is not valid JSON.",
        "Esa trama no es JSON válido.",
        "هذا الإطار ليس JSON صالحًا.",
    }
    for value in naughty_strings()[:120]:
        socket = await _patron_socket("?lang=" + quote(value, safe=""))
        await socket.send_to(text_data="{")
        frame = await socket.receive_json_from(timeout=TIMEOUT)
        assert frame["code"] == "bad_json" and frame["message"] in expected, value
        await socket.disconnect()


def test_reference_analytics_exports_the_patrons_language(client, reference, alicia):
    """Reference Analytics can be reported by language: the CSV export has the column."""
    import csv
    import io

    from tests.factories import record_interaction

    alicia.user.is_staff = True
    alicia.user.save()
    spanish, _ = start_chat(reference, language="es")
    arabic, _ = start_chat(reference, language="ar", client_id="q-2")
    for chat in (spanish, arabic):
        services.chat_claim(chat_id=chat.pk, operator=alicia)
        services.chat_end(chat_id=chat.pk, by="patron")
        record_interaction(alicia.user, chat=chat)
    record_interaction(alicia.user)  # at the desk: no chat, no language
    client.force_login(alicia.user)
    response = client.get("/analytics/export.csv")
    rows = list(
        csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig")))
    )
    by_chat = {row["chat_id"]: row["patron_language"] for row in rows}
    assert by_chat == {str(spanish.public_id): "es", str(arabic.public_id): "ar", "": ""}
