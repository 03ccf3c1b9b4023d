from pathlib import Path

import pytest

from libdesk.celery import app as celery_app
from tests.factories import DepartmentFactory, named_operator

MAIL_DIR = Path(__file__).parent / "mail"


def sample_mail(name: str, reference: str = "") -> bytes:
    """A sample message from tests/tickets/mail/, its LD-REF placeholder filled in."""
    raw = (MAIL_DIR / name).read_bytes()
    return raw.replace(b"LD-REF", reference.encode()) if reference else raw


@pytest.fixture(autouse=True)
def _tickets_settings(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    # Production mode (DATABASE_URL + REDIS_URL) hashes static names from a manifest
    # that only collectstatic writes.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.TICKETS = {
        **settings.TICKETS,
        "INBOUND_SECRET": "s3cret-for-tests",
        "REPLY_TO": "desk+{reference}@library.example",
        "DEFAULT_QUEUE": "reference",
        "EMAIL_MAX_RETRIES": 2,
    }


@pytest.fixture(autouse=True)
def _eager_celery():
    """Tasks run in-process in these tests, whatever the broker configuration."""
    old = celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates
    celery_app.conf.task_always_eager = True
    celery_app.conf.task_eager_propagates = True
    yield
    celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates = old


@pytest.fixture
def reference_desk(db):
    return DepartmentFactory(name="Reference Desk", slug="reference")


@pytest.fixture
def special(db):
    return DepartmentFactory(name="Special Collections", slug="special-collections")


@pytest.fixture
def alice(reference_desk):
    return named_operator("alice", [reference_desk])


@pytest.fixture
def carmen(special):
    return named_operator("carmen", [special])


@pytest.fixture
def superuser_operator(db):
    return named_operator("root", is_superuser=True)
