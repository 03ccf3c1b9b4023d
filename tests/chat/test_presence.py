"""Presence that keeps itself true: idle → Away, end of shift, gone dashboards, live
department state, and the widget's routing to a fallback department (issue 4)."""

import datetime as dt
import json
import threading
from datetime import timedelta
from unittest.mock import ANY

import pytest
from django.core.management import call_command
from django.db import connections, transaction
from django.utils import timezone

from chat import selectors, services
from chat.models import Chat, Operator, OperatorConnection
from chat.services import presence
from tests.chat.staffing import bring_online, events_of
from tests.factories import DepartmentFactory, named_operator

pytestmark = pytest.mark.django_db


@pytest.fixture
def reference(db):
    return DepartmentFactory(name="Reference Desk", slug="reference")


@pytest.fixture
def special(db):
    return DepartmentFactory(name="Special Collections", slug="special-collections")


@pytest.fixture
def alice(reference):
    return named_operator("alice", [reference])


@pytest.fixture
def carmen(special):
    return named_operator("carmen", [special])


def status_of(operator):
    return Operator.objects.get(pk=operator.pk).status


def test_idle_online_operator_goes_away_with_a_reason(
    alice, settings, captured_events, django_capture_on_commit_callbacks
):
    settings.LIBDESK = {**settings.LIBDESK, "IDLE_AWAY_SECONDS": 600}
    bring_online(alice)
    now = timezone.now()
    presence.operator_check(operator_id=alice.pk, now=now + timedelta(seconds=599))
    assert status_of(alice) == "online"
    with django_capture_on_commit_callbacks(execute=True):
        presence.operator_check(operator_id=alice.pk, now=now + timedelta(seconds=601))
    assert status_of(alice) == "away"
    changed = events_of(captured_events, "presence.changed")
    assert changed[-1][1]["reason"] == "idle" and changed[-1][1]["operator"]["status"] == "away"
    assert not selectors.department_is_online(alice.departments.get())


def test_activity_restarts_the_idle_clock(alice, settings):
    settings.LIBDESK = {**settings.LIBDESK, "IDLE_AWAY_SECONDS": 600}
    bring_online(alice)
    later = timezone.now() + timedelta(seconds=500)
    presence.activity(operator_id=alice.pk, now=later)
    presence.operator_check(operator_id=alice.pk, now=later + timedelta(seconds=300))
    assert status_of(alice) == "online"
    presence.operator_check(operator_id=alice.pk, now=later + timedelta(seconds=601))
    assert status_of(alice) == "away"


def test_away_is_not_made_offline_by_idleness(alice):
    bring_online(alice)
    services.presence_set(operator=alice, status="away")
    presence.operator_check(operator_id=alice.pk, now=timezone.now() + timedelta(days=0, hours=3))
    assert status_of(alice) == "away"


def test_end_of_shift_signs_the_operator_off(alice, settings):
    settings.TIME_ZONE = "UTC"
    bring_online(alice)
    now = timezone.now()
    end = (now + timedelta(minutes=30)).time().replace(second=0, microsecond=0)
    Operator.objects.filter(pk=alice.pk).update(shift_ends_at=end)
    presence.operator_check(operator_id=alice.pk, now=now)
    assert status_of(alice) == "online"  # the shift has not ended yet
    presence.operator_check(operator_id=alice.pk, now=now + timedelta(minutes=31))
    assert status_of(alice) == "offline"


def test_going_online_after_the_end_of_shift_stays_online_until_the_next_one(alice):
    now = timezone.now()
    end = (now - timedelta(hours=1)).time().replace(second=0, microsecond=0)
    Operator.objects.filter(pk=alice.pk).update(shift_ends_at=end)
    alice.refresh_from_db()
    bring_online(alice)  # staying late, on purpose, after the shift ended
    presence.operator_check(operator_id=alice.pk, now=now + timedelta(minutes=5))
    assert status_of(alice) == "online"
    presence.operator_check(operator_id=alice.pk, now=now + timedelta(hours=23, minutes=30))
    assert status_of(alice) == "offline"  # the next day's end of shift


def test_last_shift_end_is_the_most_recent_one():
    now = timezone.make_aware(dt.datetime(2026, 11, 30, 9, 0))
    assert presence.last_shift_end(dt.time(17, 0), now).day == 29
    assert presence.last_shift_end(dt.time(8, 30), now).day == 30


def test_the_sweep_signs_off_operators_whose_dashboards_died(alice, reference, settings):
    bring_online(alice)
    # The process died without running its disconnect: the row stays, but goes stale.
    OperatorConnection.objects.filter(operator=alice).update(
        last_seen=timezone.now() - timedelta(minutes=5)
    )
    assert not selectors.department_is_online(reference)
    result = presence.desk_sweep()
    assert result["disconnected"] == 1 and status_of(alice) == "offline"


def test_the_sweep_leaves_a_freshly_closed_tab_to_its_grace_period(alice):
    bring_online(alice)
    services.connection_close(channel_name=f"test-chan-{alice.pk}")  # e.g. a reload
    presence.desk_sweep()
    assert status_of(alice) == "online"


def test_the_sweep_management_command(alice, settings):
    settings.LIBDESK = {**settings.LIBDESK, "IDLE_AWAY_SECONDS": 0}
    bring_online(alice)
    call_command("desk_sweep")
    assert status_of(alice) == "away"


def test_departments_presence_lists_who_is_online(reference, special, alice, carmen):
    bring_online(carmen)
    rows = {row["slug"]: row for row in selectors.departments_presence()}
    assert rows["special-collections"]["online"] is True
    assert rows["special-collections"]["online_operators"] == [{"id": carmen.pk, "name": "Carmen"}]
    assert rows["reference"]["online"] is False and rows["reference"]["operators"] == []


def test_presence_changes_reach_widgets_watching_each_department(
    reference, special, carmen, captured_events, django_capture_on_commit_callbacks
):
    reference.fallback = special
    reference.save(update_fields=["fallback"])
    with django_capture_on_commit_callbacks(execute=True):
        bring_online(carmen)
    by_group = {
        groups[0]: event for groups, event in events_of(captured_events, "department.presence")
    }
    assert by_group[f"dept-{special.pk}-presence"]["online"] is True
    assert by_group[f"dept-{reference.pk}-presence"] == {
        "type": "department.presence",
        "department": "reference",
        "online": False,
        "answering": {"name": "Special Collections", "slug": "special-collections"},
        "as_of": ANY,
    }


def test_a_new_chat_goes_to_the_fallback_when_the_department_is_offline(
    client, reference, special, carmen
):
    reference.fallback = special
    reference.save(update_fields=["fallback"])
    status = client.get("/widget/reference/status").json()
    assert status["answering"] is None
    assert (
        client.post(
            "/widget/reference/chats",
            data=json.dumps({"question": "Hi"}),
            content_type="application/json",
        ).status_code
        == 409
    )
    bring_online(carmen)
    status = client.get("/widget/reference/status").json()
    assert status["online"] is False and status["answering"]["name"] == "Special Collections"
    response = client.post(
        "/widget/reference/chats",
        data=json.dumps({"question": "Old maps?"}),
        content_type="application/json",
    )
    assert response.status_code == 201
    chat = Chat.objects.get(public_id=response.json()["chat"])
    assert chat.department == special


def test_a_fallback_cycle_does_not_loop(reference, special):
    reference.fallback, special.fallback = special, reference
    reference.save(update_fields=["fallback"])
    special.save(update_fields=["fallback"])
    assert selectors.answering_department(reference) is None


@pytest.mark.django_db(transaction=True)
def test_a_dashboard_opening_waits_for_a_presence_decision_in_progress(alice):
    """presence_reconcile decides "no dashboard left: Offline" under the operator's row
    lock; a dashboard that opens meanwhile waits for that decision, so it never reads
    Online and is then set Offline without its connection being seen."""
    bring_online(alice)
    OperatorConnection.objects.filter(operator=alice).delete()
    deciding, opened = threading.Event(), threading.Event()
    opened_meanwhile = []

    def decide_slowly():
        with transaction.atomic():
            Operator.objects.select_for_update().get(pk=alice.pk)  # as presence_reconcile
            deciding.set()
            opened_meanwhile.append(opened.wait(0.5))
            services.presence_set(operator=alice, status="offline", reason="disconnected")
        connections.close_all()

    def open_dashboard():
        deciding.wait(5)
        services.connection_open(operator=alice, channel_name="new-tab")
        opened.set()
        connections.close_all()

    threads = [threading.Thread(target=decide_slowly), threading.Thread(target=open_dashboard)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert opened.is_set() and opened_meanwhile == [False]
    # Opened after the decision: it reads Offline (and the dashboard offers Online).
    assert status_of(alice) == "offline"
    assert OperatorConnection.objects.filter(operator=alice, channel_name="new-tab").exists()


def test_a_dashboard_opening_shows_the_stored_status_not_the_sockets_copy(alice):
    """The socket reads its operator at connect; the desk may set them Offline (a closed
    tab's grace period ending) before the dashboard's state is read. The state shows
    the stored status, so the dashboard offers Online instead of showing it unchosen."""
    from chat.consumers import _staff_state

    bring_online(alice)
    stale = Operator.objects.get(pk=alice.pk)
    services.presence_set(
        operator=Operator.objects.get(pk=alice.pk), status="offline", reason="disconnected"
    )
    services.connection_open(operator=stale, channel_name="new-tab")
    _department_ids, _mine, state = _staff_state(stale)
    assert state["operator"]["status"] == "offline" and stale.status == "offline"
