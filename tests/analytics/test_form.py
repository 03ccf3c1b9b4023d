"""The Reference Analytics form: required fields, back-dating, referral kinds, and the
admin's control of which optional fields are required."""

from datetime import timedelta

import pytest
from django.utils import timezone

from analytics.forms import InteractionForm
from analytics.models import FormSettings, Interaction, Location, Mode, QuestionType
from tests.factories import OperatorFactory

pytestmark = pytest.mark.django_db


def base_data(**extra):
    data = {
        "location": Location.objects.get(slug="reference-desk").pk,
        "mode": Mode.objects.get(slug="phone").pk,
        "duration_minutes": "7",
        "referral_kind": "",
    }
    data.update(extra)
    return data


def test_location_mode_and_duration_are_required():
    form = InteractionForm(data={"referral_kind": ""})
    assert not form.is_valid()
    assert set(form.errors) >= {"location", "mode", "duration_minutes"}
    assert "question_type" not in form.errors


def test_a_minimal_entry_is_valid_and_time_defaults_to_now(operator):
    from analytics import services

    form = InteractionForm(data=base_data())
    assert form.is_valid(), form.errors
    before = timezone.now()
    entry = services.interaction_record(recorded_by=operator.user, data=form.entry_data())
    assert entry.occurred_at >= before - timedelta(seconds=1)
    assert entry.staff == operator.user and entry.chat is None


def test_back_dating_is_kept_and_the_future_is_refused(operator):
    from analytics import services

    earlier = timezone.localtime() - timedelta(days=3, hours=2)
    form = InteractionForm(data=base_data(occurred_at=earlier.strftime("%Y-%m-%dT%H:%M")))
    assert form.is_valid(), form.errors
    entry = services.interaction_record(recorded_by=operator.user, data=form.entry_data())
    assert entry.occurred_at.replace(second=0, microsecond=0) == earlier.replace(
        second=0, microsecond=0
    )

    later = timezone.localtime() + timedelta(days=1)
    form = InteractionForm(data=base_data(occurred_at=later.strftime("%Y-%m-%dT%H:%M")))
    assert not form.is_valid()
    assert "future" in form.errors["occurred_at"][0]


@pytest.mark.parametrize(
    ("kind", "field"),
    [
        ("operator", "referred_by_operator"),
        ("department", "referred_by_department"),
        ("other", "referred_by_text"),
    ],
)
def test_each_referral_kind_needs_its_source(kind, field):
    form = InteractionForm(data=base_data(referral_kind=kind))
    assert not form.is_valid()
    assert list(form.errors) == [field]


def test_referral_keeps_only_the_chosen_kind(operator, department):
    from analytics import services

    other = OperatorFactory(user__username="bob-t", user__first_name="Bob")
    form = InteractionForm(
        data=base_data(
            referral_kind="department",
            referred_by_department=department.pk,
            referred_by_operator=other.pk,
            referred_by_text="Circulation",
        )
    )
    assert form.is_valid(), form.errors
    entry = services.interaction_record(recorded_by=operator.user, data=form.entry_data())
    assert entry.referral_kind == "department"
    assert entry.referred_by_department == department
    assert entry.referred_by_operator is None and entry.referred_by_text == ""
    assert entry.referred_by_label == department.name

    form = InteractionForm(data=base_data(referral_kind="operator", referred_by_operator=other.pk))
    assert form.is_valid()
    entry = services.interaction_record(recorded_by=operator.user, data=form.entry_data())
    assert entry.referred_by_label == "Bob"

    form = InteractionForm(data=base_data(referral_kind="other", referred_by_text="The dean"))
    assert form.is_valid()
    entry = services.interaction_record(recorded_by=operator.user, data=form.entry_data())
    assert entry.referred_by_label == "The dean"


def test_read_scale_is_one_to_six():
    assert not InteractionForm(data=base_data(read_scale="7")).is_valid()
    form = InteractionForm(data=base_data(read_scale="6"))
    assert form.is_valid()
    assert form.cleaned_data["read_scale"] == 6


def test_admin_settings_make_optional_fields_required():
    FormSettings.objects.update_or_create(
        pk=1, defaults={"require_question_type": True, "require_referral": True}
    )
    form = InteractionForm(data=base_data())
    assert not form.is_valid()
    assert set(form.errors) == {"question_type", "referral_kind"}
    question_type = QuestionType.objects.first()
    form = InteractionForm(
        data=base_data(
            question_type=question_type.pk, referral_kind="other", referred_by_text="A friend"
        )
    )
    assert form.is_valid(), form.errors


def test_admin_changes_required_fields_through_the_admin(admin_client):
    response = admin_client.post(
        "/admin/analytics/formsettings/1/change/",
        {"require_topic": "on", "require_read_scale": "on"},
    )
    assert response.status_code == 302, response.content[:500]
    assert FormSettings.current().required_fields() == {"topic", "read_scale"}
    form = InteractionForm(data=base_data())
    assert set(form.errors) == {"topic", "read_scale"}
    rendered = str(form["topic"])
    assert "required" in rendered


def test_a_retired_choice_leaves_the_form_but_old_entries_keep_it(operator):
    from analytics import services

    roaming = Location.objects.get(slug="roaming")
    form = InteractionForm(data=base_data(location=roaming.pk))
    assert form.is_valid()
    entry = services.interaction_record(recorded_by=operator.user, data=form.entry_data())
    Location.objects.filter(pk=roaming.pk).update(is_active=False)

    assert roaming not in InteractionForm().fields["location"].queryset
    assert not InteractionForm(data=base_data(location=roaming.pk)).is_valid()
    entry.refresh_from_db()
    assert entry.location == roaming
    # Editing the old entry still offers its (retired) location.
    assert roaming in InteractionForm(instance=entry).fields["location"].queryset
    assert Interaction.objects.filter(location=roaming).count() == 1
