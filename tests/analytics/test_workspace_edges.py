"""Rough edges of issue 20 on the Reference Analytics side: the report's From/To show the
range applied; a chat's entry starts at its department's Location (else the form
settings' one, "Virtual (online)" as migrated)."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from analytics import services as analytics_services
from analytics.models import ChatLocation, FormSettings, Location
from chat import services
from tests.factories import DepartmentFactory, analytics_choice, named_operator, start_chat

pytestmark = pytest.mark.django_db


def value_of(html, name):
    match = re.search(rf'<input[^>]*name="{name}"[^>]*>', html)
    found = re.search(r'value="([^"]*)"', match.group(0)) if match else None
    return found.group(1) if found else None


def test_the_report_shows_the_applied_range_in_from_and_to(client):
    operator = named_operator("alice")
    client.force_login(operator.user)
    html = client.get(reverse("analytics:report")).content.decode()
    today = timezone.localdate()
    assert value_of(html, "end") == today.isoformat()
    assert value_of(html, "start") == (today - timedelta(days=29)).isoformat()
    html = client.get(reverse("analytics:report"), {"start": "2026-01-05"}).content.decode()
    assert (value_of(html, "start"), value_of(html, "end")) == ("2026-01-05", today.isoformat())


def selected_location(html):
    select = re.search(r'<select name="location".*?</select>', html, re.S).group(0)
    chosen = re.search(r'<option value="[^"]*" selected>([^<]*)<', select)
    return chosen.group(1) if chosen else None


def ended_chat(department, operator):
    chat, _ = start_chat(department)
    services.chat_claim(chat_id=chat.pk, operator=operator)
    services.chat_end(chat_id=chat.pk, by="operator", operator=operator)
    return chat


def test_a_chat_entry_starts_at_virtual_or_its_departments_location(client):
    reference = DepartmentFactory(slug="reference")
    special = DepartmentFactory(slug="special")
    alice = named_operator("alice", [reference, special])
    client.force_login(alice.user)
    assert FormSettings.current().chat_location.slug == "virtual"  # migration 0008
    chat = ended_chat(reference, alice)
    html = client.get(reverse("analytics:chat_entry", args=[chat.public_id])).content.decode()
    assert selected_location(html) == "Virtual (online)"
    reading_room = analytics_choice(Location, "Reading Room")
    analytics_services.chat_location_save(
        chat_location=ChatLocation(department=special, location=reading_room)
    )
    chat = ended_chat(special, alice)
    html = client.get(reverse("analytics:chat_entry", args=[chat.public_id])).content.decode()
    assert selected_location(html) == "Reading Room"
