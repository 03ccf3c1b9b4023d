"""chat.services.identity: campus sign-ins become desk accounts — the mapping's rules,
the accounts it links or leaves alone, and deprovisioning with its events."""

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from chat.models import CampusIdentity, Membership, SignInMapping
from chat.services import identity
from chat.services.identity import CampusPerson, SignInRefused
from tests.factories import DepartmentFactory, UserFactory, desk_admin_user, named_operator
from tests.realworld import hostile_strings

User = get_user_model()


@pytest.fixture
def departments(db):
    desk_admin_user("dana")
    reference = DepartmentFactory(name="Reference", slug="reference")
    archives = DepartmentFactory(name="Archives", slug="archives")
    SignInMapping.objects.create(value="reference-staff", department=reference)
    SignInMapping.objects.create(value="Archives-Staff", department=archives)
    SignInMapping.objects.create(value="archives-leads", department=archives, role="admin")
    SignInMapping.objects.create(
        attribute="eduPersonAffiliation", value="faculty", department=reference
    )
    SignInMapping.objects.create(provider="oidc", value="library-it", desk_admin=True)
    return {"reference": reference, "archives": archives}


def person(groups=(), provider="saml", subject="p-1", username="pat", **extra):
    attributes = {"groups": list(groups), **extra.pop("attributes", {})}
    return CampusPerson(
        provider=provider,
        subject=subject,
        username=username,
        first_name=extra.get("first_name", "Pat"),
        last_name=extra.get("last_name", "Lee"),
        email="pat@library.example",
        attributes=attributes,
    )


def memberships(user):
    return sorted(
        Membership.objects.filter(operator__user=user).values_list("department__slug", "role")
    )


def test_the_stronger_role_wins_and_groups_compare_without_case(departments):
    user = identity.staff_sign_in(person=person(["archives-staff", "ARCHIVES-LEADS"]))
    assert memberships(user) == [("archives", "admin")]


def test_an_attribute_other_than_groups_can_give_access(departments):
    user = identity.staff_sign_in(
        person=person(attributes={"eduPersonAffiliation": ["member", "faculty"]})
    )
    assert memberships(user) == [("reference", "operator")]


def test_a_row_for_one_provider_does_not_count_for_another(departments):
    with pytest.raises(SignInRefused):
        identity.staff_sign_in(person=person(["library-it"], provider="saml"))
    user = identity.staff_sign_in(person=person(["library-it"], provider="oidc", subject="o-1"))
    assert user.groups.filter(name="Desk admin").exists() and memberships(user) == []


def test_a_local_account_of_the_same_username_is_taken_over(departments):
    operator = named_operator("pat", first_name="Patricia")
    user = identity.staff_sign_in(person=person(["reference-staff"]))
    assert user.pk == operator.user.pk
    assert user.first_name == "Pat" and memberships(user) == [("reference", "operator")]
    assert not user.has_usable_password()  # the old desk password no longer lets anyone in


def test_a_superuser_is_never_taken_over_by_a_campus_sign_in(departments):
    admin = UserFactory(username="pat", is_superuser=True)
    user = identity.staff_sign_in(person=person(["reference-staff"]))
    assert user.pk != admin.pk and user.username == "pat.saml"
    assert admin.has_usable_password() and not admin.campus_identities.exists()


def test_two_providers_with_one_username_get_two_accounts(departments):
    first = identity.staff_sign_in(person=person(["reference-staff"], provider="saml"))
    second = identity.staff_sign_in(
        person=person(["reference-staff"], provider="oidc", subject="o-9")
    )
    assert first.pk != second.pk and second.username == "pat.oidc"


def test_a_sign_in_without_a_subject_is_refused(departments):
    with pytest.raises(SignInRefused) as refusal:
        identity.staff_sign_in(person=person(["reference-staff"], subject=""))
    assert refusal.value.code == "no_subject"
    assert not User.objects.filter(username="pat").exists()


def test_losing_the_group_deprovisions_with_events(
    departments, captured_events, django_capture_on_commit_callbacks
):
    user = identity.staff_sign_in(person=person(["reference-staff", "archives-leads"]))
    captured_events.clear()
    with django_capture_on_commit_callbacks(execute=True):
        with pytest.raises(SignInRefused):
            identity.staff_sign_in(person=person(["students"]))
    user.refresh_from_db()
    assert not user.is_active and memberships(user) == []
    assert CampusIdentity.objects.get(user=user).deprovision_reason == "no mapped group"
    types = [event["type"] for _, event in captured_events]
    assert "memberships.changed" in types
    ended = [event for _, event in captured_events if event["type"] == "session.ended"]
    assert ended == [{"type": "session.ended", "reason": "deactivated", "session": None}]


def test_deprovisioning_twice_changes_nothing_more(departments):
    identity.staff_sign_in(person=person(["reference-staff"]))
    assert identity.staff_deprovision(provider="saml", subject="p-1", reason="gone") is True
    assert identity.staff_deprovision(provider="saml", subject="p-1", reason="gone") is False
    assert identity.staff_deprovision(provider="saml", subject="nobody", reason="x") is False


@pytest.mark.django_db
def test_hostile_names_are_stored_as_given(departments):
    strings = hostile_strings()
    # A third of them, and every one a database could not keep as it is.
    sample = [t for n, t in enumerate(strings) if n % 3 == 0 or identity.storable(t) != t]
    for number, text in enumerate(sample):
        user = identity.staff_sign_in(
            person=person(
                ["reference-staff"],
                subject=f"hostile-{number}",
                username=f"h{number}",
                first_name=text,
                last_name=text,
            )
        )
        kept = identity.storable(text)[:150]
        assert (user.first_name, user.last_name) == (kept, kept)
        if "\x00" not in text and text.isprintable():
            assert kept == text[:150]  # ordinary text is kept exactly


def test_the_desk_admin_keeps_the_mapping_in_the_admin(departments):
    client = Client()
    client.force_login(User.objects.get(username="dana"))
    page = client.get("/admin/chat/signinmapping/add/")
    assert page.status_code == 200
    response = client.post(
        "/admin/chat/signinmapping/add/",
        {
            "provider": "",
            "attribute": "groups",
            "value": "circulation-staff",
            "department": departments["reference"].pk,
            "role": "operator",
        },
    )
    assert response.status_code == 302
    assert SignInMapping.objects.filter(value="circulation-staff").exists()
    # A row that grants nothing is refused with the reason.
    refused = client.post(
        "/admin/chat/signinmapping/add/",
        {"provider": "", "attribute": "groups", "value": "nothing", "role": "operator"},
    )
    assert refused.status_code == 200
    assert not SignInMapping.objects.filter(value="nothing").exists()
