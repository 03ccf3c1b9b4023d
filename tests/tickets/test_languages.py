"""The ticket desk in the operator's language (issue 19): an operator who chose Spanish
reads the tickets list and a ticket's page in Spanish, dates in the Spanish way; one who
did not reads them in English."""

from datetime import datetime
from html.parser import HTMLParser

import pytest
from django.utils import timezone

from tests.factories import named_operator, offline_ticket
from tickets import services
from tickets.models import Ticket

pytestmark = pytest.mark.django_db


class Visible(HTMLParser):
    """What a person reads of a page: its headings, buttons (by accessible name), column
    headers, links and definition terms, in order."""

    KINDS = {"h1": "heading", "h2": "heading", "button": "button", "th": "column", "a": "link"}
    KINDS |= {"dt": "term", "summary": "summary", "label": "label", "caption": "caption"}

    def __init__(self, html):
        super().__init__()
        self.found: dict[str, list[str]] = {}
        self.lang = None
        self._open: list[tuple[str, list[str]]] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "html":
            self.lang = attrs.get("lang")
        if tag == "input" and attrs.get("type") == "submit":
            self.found.setdefault("button", []).append(attrs.get("value", ""))
        if attrs.get("aria-label") and tag in ("form", "nav", "aside", "div", "ul"):
            self.found.setdefault("region", []).append(attrs["aria-label"])
        if tag in self.KINDS:
            self._open.append((tag, []))

    def handle_endtag(self, tag):
        if self._open and self._open[-1][0] == tag:
            _tag, parts = self._open.pop()
            text = " ".join("".join(parts).split())
            self.found.setdefault(self.KINDS[tag], []).append(text)
            if self._open:
                self._open[-1][1].append(text)

    def handle_data(self, data):
        if self._open:
            self._open[-1][1].append(data)

    def __getitem__(self, kind):
        return self.found.get(kind, [])


@pytest.fixture
def tickets(special, carmen):
    """Two tickets in Special Collections, one assigned to Carmen, made on 9 March."""
    made = [offline_ticket(special, question=q) for q in ("Maps of 1910", "Letters of Ada")]
    services.ticket_assign(ticket_id=made[0].pk, actor=carmen, assignee=carmen)
    march = timezone.make_aware(datetime(2026, 3, 9, 14, 5))
    Ticket.objects.filter(pk__in=[t.pk for t in made]).update(created_at=march, updated_at=march)
    return made


def _operator_client(client, operator, language=None):
    client.force_login(operator.user)
    if language:
        response = client.post("/i18n/language", {"language": language, "next": "/tickets/"})
        assert response.status_code == 302
    return client


def test_the_tickets_list_in_spanish_for_an_operator_who_chose_spanish(
    client, carmen, tickets, settings
):
    settings.TIME_ZONE = "UTC"
    page = Visible(_operator_client(client, carmen, "es").get("/tickets/").content.decode())
    assert page.lang == "es"
    assert page["heading"] == ["Casos"]
    assert "Filtrar" in page["button"]
    assert "Borrar" in page["link"]
    assert "1 caso abierto asignado a mí" in page["link"]
    assert page["label"] == ["Idioma", "Mostrar", "Departamento", "Estado", "Buscar"]
    assert page["column"] == [
        "Ticket",
        "Asunto",
        "Usuario",
        "Cola",
        "Asignado a",
        "Estado",
        "Actualizado",
    ]
    assert "Filtrar los casos" in page["region"]
    html = client.get("/tickets/").content.decode()
    assert "2 casos" in html and "Sin asignar" in html
    assert "09/03/2026 14:05" in html  # the Spanish short date and time


def test_the_tickets_list_in_english_for_an_operator_who_did_not_choose(
    client, carmen, tickets, settings
):
    settings.TIME_ZONE = "UTC"
    page = Visible(_operator_client(client, carmen).get("/tickets/").content.decode())
    assert page.lang == "en"
    assert page["heading"] == ["Tickets"]
    assert "1 open ticket assigned to me" in page["link"]
    assert page["column"][:3] == ["Ticket", "Subject", "Patron"]
    assert "2 tickets" in client.get("/tickets/").content.decode()


def test_a_tickets_page_in_spanish_for_an_operator_who_chose_spanish(
    client, carmen, tickets, settings
):
    settings.TIME_ZONE = "UTC"
    ticket = tickets[0]
    _operator_client(client, carmen, "es")
    services.ticket_add_note(ticket_id=ticket.pk, actor=carmen, body="Mirar el archivo")
    page = Visible(client.get(f"/tickets/{ticket.reference}/").content.decode())
    assert page.lang == "es"
    assert page["heading"][1:] == [
        "Conversación",
        "Responder",
        "Nota interna",
        "Historial",
    ]
    assert page["term"] == ["Estado", "Cola", "Asignado a", "Usuario", "Desde", "Creado"]
    for button in ("Enviar respuesta", "Añadir nota", "Cambiar estado", "Asignar"):
        assert button in page["button"], button
    assert "← Todos los casos" in page["link"]
    assert "Gestionar el caso" in page["region"]
    html = client.get(f"/tickets/{ticket.reference}/").content.decode()
    assert "09/03/2026 14:05" in html
    # The history: its words in Spanish, the names as the desk has them.
    history = " ".join(html[html.index('id="history-title"') :].split())
    assert "El servicio: creado desde el formulario sin conexión, cola Special Collections" in (
        history
    )
    assert "Carmen: asignado a Carmen" in history


def test_a_tickets_page_in_english_for_an_operator_who_did_not_choose(client, carmen, tickets):
    page = Visible(
        _operator_client(client, carmen).get(f"/tickets/{tickets[0].reference}/").content.decode()
    )
    assert page.lang == "en"
    assert page["heading"][1:] == ["Thread", "Reply", "Internal note", "History"]
    assert "Send reply" in page["button"] and "Assign" in page["button"]
    html = client.get(f"/tickets/{tickets[0].reference}/").content.decode()
    history = " ".join(html[html.index('id="history-title"') :].split())
    assert "The desk: created from the offline form, queue Special Collections" in history
    assert "Carmen: assignee Carmen" in history


def test_the_reply_and_the_note_boxes_each_have_their_own_label(client, carmen, tickets):
    """Both forms have a "body": each box has its own id, so each label names one box."""
    html = _operator_client(client, carmen).get(f"/tickets/{tickets[0].reference}/")
    html = " ".join(html.content.decode().split())
    assert html.count('id="id_body"') == 1 and html.count('id="note_body"') == 1
    assert html.count('<label for="note_body"') == 1 and html.count('<label for="id_body"') == 1


def test_canned_messages_pages_in_spanish(client, special):
    operator = named_operator("rosa", [special])
    client = _operator_client(client, operator, "es")
    page = Visible(client.get("/dashboard/canned/manage/").content.decode())
    assert page["heading"] == [
        "Mis mensajes predefinidos",
        "Personales",
        "Nuevo mensaje predefinido",
        "Compartidos con usted",
    ]
    assert "Guardar mensaje predefinido" in page["button"]
    html = client.get("/dashboard/canned/manage/").content.decode()
    assert "Aún no tiene mensajes predefinidos personales." in html
    assert "(el nombre de la biblioteca)" in html  # a placeholder's meaning
