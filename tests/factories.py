"""Test data. Chats are made through the real service, as a patron would make them."""

import factory
from django.contrib.auth import get_user_model

from chat import services
from chat.models import Department, Membership, Operator


class DepartmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Department
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Department {n}")
    slug = factory.Sequence(lambda n: f"department-{n}")
    greeting = "Ask us anything."


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Sequence(lambda n: f"Librarian{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@library.example")
    is_staff = True
    password = factory.PostGenerationMethodCall("set_password", "pw-for-tests")

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class OperatorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Operator
        skip_postgeneration_save = True

    user = factory.SubFactory(UserFactory)

    @factory.post_generation
    def departments(obj, create, extracted, **kwargs):
        for department in extracted or []:
            Membership.objects.create(operator=obj, department=department)


def named_operator(username, departments=(), *, first_name=None, **user_fields):
    """An operator signed in as ``username``, in ``departments``; patrons see
    ``first_name`` (default: the username capitalised, e.g. "alice" → "Alice")."""
    user = UserFactory(
        username=username, first_name=first_name or username.capitalize(), **user_fields
    )
    return OperatorFactory(user=user, departments=list(departments))


def start_chat(
    department,
    question="Where are the atlases?",
    name="Pat",
    email="",
    client_id=None,
    language="",
):
    """A waiting chat, made by the real service; returns (chat, token). Each call its own
    start (a fresh client id, as the widget makes one per start) unless ``client_id``.
    ``language``: the widget's (empty: the library's default)."""
    import uuid

    if client_id is None:
        client_id = uuid.uuid4().hex
    return services.chat_start(
        department=department,
        question=question,
        patron_name=name,
        patron_email=email,
        client_id=client_id,
        language=language,
    )


# --- Reference Analytics (issue 6) ------------------------------------------------------


def analytics_choice(model, name):
    """A choice-list row (Location, Mode, …) by name; the seeded ones are reused."""
    from django.utils.text import slugify

    obj, _ = model.objects.get_or_create(slug=slugify(name)[:60], defaults={"name": name})
    return obj


def record_interaction(user, *, chat=None, **values):
    """An entry made by the real service; defaults: Reference Desk, Chat/In person, 10 min."""
    from analytics import services as analytics_services
    from analytics.models import Location, Mode

    data = {
        "location": analytics_choice(Location, "Reference Desk"),
        "mode": analytics_choice(Mode, "Chat" if chat else "In person"),
        "duration_minutes": 10,
        **values,
    }
    return analytics_services.interaction_record(recorded_by=user, chat=chat, data=data)


def canned_message(
    title="Welcome",
    body="Hi {patron_name}!",
    shortcut="",
    department=None,
    operator=None,
    language="",
):
    """A canned message, saved through the real service; its scope follows its owner."""
    from chat.models import CannedMessage

    if operator is not None:
        scope = CannedMessage.Scope.PERSONAL
    elif department is not None:
        scope = CannedMessage.Scope.DEPARTMENT
    else:
        scope = CannedMessage.Scope.GLOBAL
    return services.canned_message_save(
        canned=CannedMessage(
            scope=scope,
            department=department,
            operator=operator,
            title=title,
            body=body,
            shortcut=shortcut,
            language=language,
        )
    )


def desk_admin_user(username="dana", **kwargs):
    """A staff user in the "Desk admin" group, as migration chat 0003 makes it (made
    again here when a transactional test has flushed the database)."""
    import importlib

    from django.apps import apps
    from django.contrib.auth.models import Group

    migration = importlib.import_module("chat.migrations.0003_desk_admin_group")
    if not Group.objects.filter(name=migration.GROUP).exists():
        migration.create_group(apps, None)
        importlib.import_module("analytics.migrations.0008_free_text_scope").grant(apps, None)
    user = UserFactory(username=username, **kwargs)
    user.groups.add(Group.objects.get(name=migration.GROUP))
    return user


def offline_ticket(department, question="Do you have the 1902 atlas?", email=None, name="Pat"):
    """A ticket as the widget's offline form makes it (real service); a fresh email
    address each time so the per-address rate limit stays out of the way."""
    import uuid

    from tickets import services as ticket_services

    return ticket_services.ticket_create_from_offline_form(
        department=department,
        name=name,
        email=email or f"pat-{uuid.uuid4().hex[:10]}@example.org",
        question=question,
    )


def patron_reply_email(ticket, *, sender, text="attached", attachment=None) -> bytes:
    """The raw RFC 822 reply a patron sends to ``ticket``'s Reply-To address;
    ``attachment``: (filename, bytes, "maintype/subtype") to attach."""
    import uuid
    from email.message import EmailMessage

    raw = EmailMessage()
    raw["From"] = sender
    raw["To"] = f"desk+{ticket.reference}@library.example"
    raw["Subject"] = f"Re: [{ticket.reference}]"
    raw["Message-ID"] = f"<{uuid.uuid4().hex}@example.org>"
    raw.set_content(text)
    if attachment is not None:
        filename, content, kind = attachment
        maintype, subtype = kind.split("/")
        raw.add_attachment(content, maintype=maintype, subtype=subtype, filename=filename)
    return raw.as_bytes()
