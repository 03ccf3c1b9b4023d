"""/admin/ for Reference Analytics: choice lists, form settings and entries are saved and
deleted through analytics.services, with the test client and real permissions."""

import pytest
from django.urls import reverse

from analytics import services
from analytics.models import FormSettings, Interaction, Location, QuestionType
from chat.exceptions import Conflict
from tests.factories import record_interaction

pytestmark = pytest.mark.django_db


def test_a_choice_is_added_retired_from_the_list_and_deleted_when_unused(admin_client):
    response = admin_client.post(
        reverse("admin:analytics_location_add"),
        {"name": "Map Room", "slug": "map-room", "is_active": "on", "position": "4"},
    )
    assert response.status_code == 302, response.content.decode()[:1000]
    map_room = Location.objects.get(slug="map-room")
    assert (map_room.is_active, map_room.position) == (True, 4)

    # Retire it from the changelist's editable columns (they save through save_model).
    changelist = reverse("admin:analytics_location_changelist")
    rows = list(Location.objects.order_by("position", "name"))
    data = {
        "form-TOTAL_FORMS": str(len(rows)),
        "form-INITIAL_FORMS": str(len(rows)),
        "_save": "Save",
    }
    for index, row in enumerate(rows):
        data[f"form-{index}-id"] = str(row.pk)
        data[f"form-{index}-position"] = str(row.position)
        if row.is_active and row.pk != map_room.pk:
            data[f"form-{index}-is_active"] = "on"
    response = admin_client.post(changelist, data)
    assert response.status_code == 302, response.content.decode()[:1000]
    map_room.refresh_from_db()
    assert map_room.is_active is False
    assert Location.objects.filter(is_active=True).count() == sum(r.is_active for r in rows) - 1

    delete = reverse("admin:analytics_location_delete", args=[map_room.pk])
    assert admin_client.post(delete, {"post": "yes"}).status_code == 302
    assert not Location.objects.filter(pk=map_room.pk).exists()


def test_a_choice_in_use_cannot_be_deleted_in_the_admin_or_by_the_service(admin_client, operator):
    question_type = QuestionType.objects.first()
    entry = record_interaction(operator.user, question_type=question_type)
    response = admin_client.post(
        reverse("admin:analytics_questiontype_delete", args=[question_type.pk]), {"post": "yes"}
    )
    assert response.status_code == 403
    with pytest.raises(Conflict) as refused:
        services.choice_delete(choice=question_type)
    assert refused.value.code == "in_use"
    entry.refresh_from_db()
    assert entry.question_type == question_type


def test_form_settings_are_saved_as_the_one_row(admin_client):
    FormSettings.objects.all().delete()  # the row migration 0002 seeds: start bare
    response = admin_client.post(
        reverse("admin:analytics_formsettings_add"), {"require_answer": "on"}
    )
    assert response.status_code == 302, response.content.decode()[:1000]
    assert list(FormSettings.objects.values_list("pk", flat=True)) == [1]
    assert FormSettings.current().required_fields() == {"answer"}


def test_an_entry_deleted_in_the_admin_puts_its_chat_back_on_the_to_do_list(
    admin_client, operator, ended_chat
):
    from analytics import selectors

    entry = record_interaction(operator.user, chat=ended_chat)
    assert ended_chat.pk not in [row.pk for row in selectors.chats_without_entry(operator.user)]
    response = admin_client.post(
        reverse("admin:analytics_interaction_delete", args=[entry.pk]), {"post": "yes"}
    )
    assert response.status_code == 302
    assert not Interaction.objects.exists()
    assert ended_chat.pk in [row.pk for row in selectors.chats_without_entry(operator.user)]
