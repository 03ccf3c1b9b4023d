"""The entry after a chat (the dashboard's partial), manual entries, and the list of
ended chats without statistics."""

import pytest

from analytics.models import Interaction, Location, Mode
from chat import services as chat_services
from tests.factories import OperatorFactory, record_interaction, start_chat

pytestmark = pytest.mark.django_db


def form_url(chat):
    return f"/analytics/chats/{chat.public_id}/form"


def test_the_form_is_prefilled_from_the_chat(staff_client, ended_chat):
    response = staff_client.get(form_url(ended_chat))
    assert response.status_code == 200
    html = response.content.decode()
    form = response.context["form"]
    assert form.initial["mode"] == Mode.objects.get(slug="chat")
    assert form.initial["duration_minutes"] >= 1
    assert form.initial["question"] == "Do you have 19th-century atlases?"
    assert "department" not in form.fields
    assert "Reference Analytics" in html and ">Save</button>" in html and "Skip for now" in html


def test_save_refuses_without_location_then_records_and_links(staff_client, ended_chat, operator):
    chat_mode = Mode.objects.get(slug="chat")
    response = staff_client.post(
        form_url(ended_chat), {"mode": chat_mode.pk, "duration_minutes": 5, "referral_kind": ""}
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert 'aria-invalid="true"' in html
    assert 'id="id_location_error"' in html and 'aria-describedby="id_location_error"' in html
    assert not Interaction.objects.exists()

    location = Location.objects.get(slug="reference-desk")
    response = staff_client.post(
        form_url(ended_chat),
        {"location": location.pk, "mode": chat_mode.pk, "duration_minutes": 5, "referral_kind": ""},
    )
    assert response.status_code == 201
    assert "Statistics saved." in response.content.decode()
    entry = Interaction.objects.get()
    assert entry.chat == ended_chat
    assert entry.staff == operator.user and entry.department == ended_chat.department

    # A second save (another tab) is refused, and nothing is duplicated.
    response = staff_client.get(form_url(ended_chat))
    assert "Statistics recorded." in response.content.decode()
    again = staff_client.post(
        form_url(ended_chat),
        {"location": location.pk, "mode": chat_mode.pk, "duration_minutes": 5, "referral_kind": ""},
    )
    assert again.status_code == 200 and Interaction.objects.count() == 1


def test_an_active_chat_cannot_be_recorded(staff_client, department, operator):
    chat, _ = start_chat(department)
    chat_services.chat_claim(chat_id=chat.pk, operator=operator)
    response = staff_client.post(form_url(chat), {"referral_kind": ""})
    assert response.status_code == 409
    assert not Interaction.objects.exists()


def test_another_departments_operator_cannot_open_the_form(client, ended_chat):
    stranger = OperatorFactory(user__username="stranger")
    client.force_login(stranger.user)
    assert client.get(form_url(ended_chat)).status_code == 404


def test_skipped_chats_are_listed_until_their_entry_is_recorded(
    staff_client, ended_chat, department, operator
):
    response = staff_client.get("/analytics/pending/?fragment=1")
    html = response.content.decode()
    assert "Ended chats without statistics" in html
    assert f"/analytics/chats/{ended_chat.public_id}/" in html
    assert "no statistics recorded" in html

    # Closing the chat does not take it off the list.
    chat_services.chat_close(chat_id=ended_chat.pk, operator=operator)
    assert str(ended_chat.public_id) in staff_client.get("/analytics/pending/").content.decode()

    # Filling it later from the full page.
    response = staff_client.post(
        f"/analytics/chats/{ended_chat.public_id}/",
        {
            "location": Location.objects.get(slug="virtual").pk,
            "mode": Mode.objects.get(slug="chat").pk,
            "duration_minutes": 3,
            "referral_kind": "",
        },
    )
    assert response.status_code == 302
    assert Interaction.objects.get().chat == ended_chat
    html = staff_client.get("/analytics/pending/?fragment=1").content.decode()
    assert str(ended_chat.public_id) not in html
    assert "None: every ended chat has its statistics." in html


def test_the_dashboards_list_in_spanish(staff_client, ended_chat):
    """The box "Ended chats without statistics" that static/analytics/dashboard.js puts
    on the dashboard is this fragment: in a Spanish browser, all of it is Spanish (it was
    English while templates/analytics/ was on the check's not-yet-marked list)."""
    html = staff_client.get(
        "/analytics/pending/?fragment=1", HTTP_ACCEPT_LANGUAGE="es"
    ).content.decode()
    assert ">Chats finalizados sin estadísticas</h3>" in html
    assert ">Registrar estadísticas<" in html
    assert "sin estadísticas registradas" in html
    assert "Registrar una interacción" in html
    assert "without statistics" not in html and "no statistics" not in html


def test_the_list_is_per_operator_and_skips_abandoned_chats(staff_client, department, operator):
    other = OperatorFactory(user__username="bob-t", departments=[department])
    theirs, _ = start_chat(department, client_id="q-other")
    chat_services.chat_claim(chat_id=theirs.pk, operator=other)
    chat_services.chat_end(chat_id=theirs.pk, by="patron")
    abandoned, _ = start_chat(department, client_id="q-abandoned")
    chat_services.chat_end(chat_id=abandoned.pk, by="patron")
    html = staff_client.get("/analytics/pending/?fragment=1").content.decode()
    assert str(theirs.public_id) not in html and str(abandoned.public_id) not in html


def test_manual_entry_with_save_and_add_another(staff_client, operator, department):
    phone = Mode.objects.get(slug="phone")
    desk = Location.objects.get(slug="circulation-desk")
    response = staff_client.post(
        "/analytics/new/",
        {
            "location": desk.pk,
            "mode": phone.pk,
            "duration_minutes": 4,
            "department": department.pk,
            "referral_kind": "",
            "question": "Renew my loans?",
            "add_another": "1",
        },
    )
    assert response.status_code == 200
    assert "Interaction saved." in response.content.decode()
    form = response.context["form"]
    assert form.initial["location"] == desk and form.initial["mode"] == phone
    assert not form.is_bound
    entry = Interaction.objects.get()
    assert entry.chat is None and entry.mode == phone and entry.department == department
    assert entry.staff == operator.user and entry.question == "Renew my loans?"

    response = staff_client.post(
        "/analytics/new/",
        {"location": desk.pk, "mode": phone.pk, "duration_minutes": 2, "referral_kind": ""},
    )
    assert response.status_code == 302 and Interaction.objects.count() == 2


def test_a_ticket_answer_is_recorded_from_a_link(staff_client):
    response = staff_client.get("/analytics/new/?ticket=T-42&question=Old+maps")
    form = response.context["form"]
    assert form.initial["ticket_ref"] == "T-42"
    assert form.initial["mode"] == Mode.objects.get(slug="ticket")
    assert form.initial["question"] == "Old maps"


def test_only_staff_see_analytics(client, db):
    from tests.factories import UserFactory

    assert client.get("/analytics/").status_code == 302  # to the login page
    patron = UserFactory(username="not-staff", is_staff=False)
    client.force_login(patron)
    assert client.get("/analytics/").status_code == 403
    assert client.get("/analytics/export.csv").status_code == 403


def test_record_interaction_factory_links_a_chat(ended_chat, operator):
    entry = record_interaction(operator.user, chat=ended_chat)
    assert entry.chat_id == ended_chat.pk and entry.mode.slug == "chat"
