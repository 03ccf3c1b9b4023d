"""Reference Analytics in the patron's and the operator's languages (issue 19): the
report's "By language" figures, kept and live alike, and the pages, the form and the
admin's labels in Spanish for an operator who chose Spanish."""

import re
from datetime import date, datetime, timedelta

import pytest
from django.conf import settings
from django.utils import timezone, translation

from analytics import reports
from analytics import services as analytics_services
from analytics.models import Mode
from analytics.templatetags.analytics_tags import count, minutes, seconds
from chat import services as chat_services
from chat.models import Chat
from tests.factories import record_interaction, start_chat

pytestmark = pytest.mark.django_db

FIRST, LAST = date(2025, 3, 3), date(2025, 3, 9)
URL = f"/analytics/?start={FIRST}&end={LAST}"


@pytest.fixture(autouse=True)
def _utc(settings):
    settings.TIME_ZONE = "UTC"


def at(day: date, hour: int) -> datetime:
    return timezone.make_aware(datetime(day.year, day.month, day.day, hour))


def chat_in(department, operator, language: str, day: date, *, entry: bool):
    """An ended chat in ``language`` that entered the queue on ``day``, with its
    Reference Analytics entry if ``entry``."""
    chat, _ = start_chat(department, language=language)
    chat_services.chat_claim(chat_id=chat.pk, operator=operator)
    chat = chat_services.chat_end(chat_id=chat.pk, by="operator", operator=operator)
    Chat.objects.filter(pk=chat.pk).update(created_at=at(day, 10), claimed_at=at(day, 10))
    if entry:
        record_interaction(operator.user, chat=chat, occurred_at=at(day, 11))


@pytest.fixture
def mixed_week(department, operator):
    """3–9 March 2025: three Spanish chats (two with an entry), two Arabic (one), one
    English (none) and one in-person entry (no chat, so no patron language); a Spanish
    chat the day before and an Arabic one the day after, outside the range."""
    for language, day, entry in [
        ("es", FIRST, True),
        ("es", FIRST + timedelta(days=2), True),
        ("es", LAST, False),
        ("ar", FIRST + timedelta(days=1), True),
        ("ar", LAST, False),
        ("en", FIRST + timedelta(days=4), False),
        ("es", FIRST - timedelta(days=1), True),
        ("ar", LAST + timedelta(days=1), True),
    ]:
        chat_in(department, operator, language, day, entry=entry)
    record_interaction(operator.user, occurred_at=at(FIRST + timedelta(days=3), 15))


EXPECTED = [  # (label, chats, entries): busiest first, none recorded last
    ("Spanish", 3, 2),
    ("Arabic", 2, 1),
    ("English", 1, 0),
    ("(not recorded)", 0, 1),
]


def rows(flt) -> list[tuple]:
    data = reports.report(flt)
    return [(r["label"], r["chats"], r["entries"]) for r in reports.language_rows(data)]


def test_by_language_counts_the_ranges_chats_and_entries_live_and_kept(mixed_week):
    week = reports.ReportFilter(start=FIRST, end=LAST)
    assert rows(week) == EXPECTED  # every day computed from the chats and entries
    result = analytics_services.report_days_build(before=date(2025, 3, 19), limit=None)
    assert result["built"] == 18 and result["months"] == 1
    assert rows(week) == EXPECTED  # the kept days' figures
    # Behind the services' back: a kept chat's language changes, the kept figure stays
    # (the report reads what was kept, not the chats).
    Chat.objects.filter(language="en").update(language="ar")
    assert rows(week) == EXPECTED
    # March: its kept days' sums (the 1st to the 18th) and the days after computed; the
    # chats and entries of the days around the week count too.
    march = reports.ReportFilter(start=date(2025, 3, 1), end=date(2025, 3, 31))
    assert rows(march) == [
        ("Spanish", 4, 3),
        ("Arabic", 3, 2),
        ("English", 1, 0),
        ("(not recorded)", 0, 1),
    ]


def test_by_language_on_every_path_of_the_report(mixed_week, operator, department):
    """By staff (chats and entries from the entries' one pass or the SQLite queries),
    by department (its kept share) and by mode (the chat figures are the library's,
    the entries the mode's)."""
    by_staff = reports.ReportFilter(start=FIRST, end=LAST, staff=operator.user)
    assert rows(by_staff) == EXPECTED
    by_department = reports.ReportFilter(start=FIRST, end=LAST, department=department)
    assert rows(by_department) == EXPECTED[:3]  # the in-person entry has no department
    chat_mode = Mode.objects.get(slug="chat")
    by_mode = reports.ReportFilter(start=FIRST, end=LAST, mode=chat_mode)
    assert rows(by_mode) == EXPECTED[:3]
    two_filters = reports.ReportFilter(start=FIRST, end=LAST, mode=chat_mode, staff=operator.user)
    assert rows(two_filters) == EXPECTED[:3]


def spanish(client):
    """The operator's chosen language: the dashboard's preference (the language cookie)."""
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "es"
    return client


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_the_report_in_spanish_for_an_operator_who_chose_it(staff_client, mixed_week):
    response = spanish(staff_client).get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="es"' in html
    text = text_of(html)
    assert "4 interacciones del 3 de marzo de 2025 al 9 de marzo de 2025." in text
    for label in ("Desde", "Hasta", "Aplicar filtros", "Exportar CSV", "Resumen", "Por modalidad"):
        assert label in text, label
    assert "Duración mediana" in text and "10 min" in text
    assert "Por idioma" in text
    table = html[html.index('id="table-language"') :]
    table = text_of(table[: table.index("</table>")])
    assert "Español 3 2 Árabe 2 1 Inglés 1 0 (no registrado) 0 1" in table
    # The heatmap's weekdays are Spanish too.
    assert '<th scope="row">lunes</th>' in html


def test_counts_and_minutes_follow_the_language():
    with translation.override("es"):
        assert count(1234) == "1\xa0234" and minutes(7.5) == "7,5 min"
        assert seconds(75) == "1 min 15 s"
    with translation.override("en"):
        assert count(1234) == "1,234" and minutes(7.5) == "7.5 min" and minutes(6) == "6 min"


def test_a_filter_error_in_spanish(staff_client):
    response = spanish(staff_client).get("/analytics/?start=2025-03-09&end=2025-03-03")
    assert "«Hasta» debe ser igual o posterior a «Desde»." in response.content.decode()


def test_the_entry_form_in_spanish(staff_client):
    response = spanish(staff_client).get("/analytics/new/")
    assert response.status_code == 200
    text = text_of(response.content.decode())
    assert "Registrar una interacción" in text
    for label in (
        "Ubicación",
        "Modalidad",
        "Duración (minutos)",
        "¿Quién le derivó esta pregunta?",
        "Tipo de pregunta",
        "Escala READ",
        "Tipo de usuario",
        "Tema",
        "Pregunta",
        "Respuesta",
        "Nota interna",
        "Hora",
        "Departamento",
        "Nadie",
        "Un operador",
        "Guardar y añadir otra",
        "Elija…",
        "1 · Respuesta sin conocimientos especializados",
    ):
        assert label in text, label
    # A required field left empty: the form says so in Spanish.
    response = spanish(staff_client).post("/analytics/new/", {"duration_minutes": ""})
    assert response.status_code == 422
    assert "La entrada no se guardó" in response.content.decode()


def test_the_admin_names_our_models_in_spanish(client, django_user_model):
    admin = django_user_model.objects.create_superuser("root", "root@example.org", "pw")
    client.force_login(admin)
    text = text_of(spanish(client).get("/admin/").content.decode())
    for name in ("Servicio de chat", "Interacciones", "Departamentos", "Operadores", "Casos"):
        assert name in text, name
    form = text_of(spanish(client).get("/admin/analytics/formsettings/1/change/").content.decode())
    assert "Exigir el tipo de pregunta" in form
    assert "Campos obligatorios (Ubicación, Modalidad y Duración siempre lo son)" in form
