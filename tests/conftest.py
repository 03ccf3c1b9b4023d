import uuid

import pytest
from django.db import connections
from channels.layers import get_channel_layer

from chat import events

# Consumer tests reach the database from asgiref's worker threads; with persistent
# connections those would outlive the test run and block dropping the test database.
connections.settings["default"]["CONN_MAX_AGE"] = 0


@pytest.fixture(autouse=True)
def _fast_settings(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # django-axes needs the request in authenticate(); Client.login() has none. The
    # throttling test turns it back on.
    settings.AXES_ENABLED = False
    # Hashed static names need collectstatic; the browser tests' server does run it.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    # Rate-limit counters live in the shared cache: a fresh namespace per test.
    settings.LIBDESK_LIMITS = {**settings.LIBDESK_LIMITS, "NAMESPACE": uuid.uuid4().hex}
    settings.LIBDESK = {**settings.LIBDESK, "PRESENCE_GRACE_SECONDS": 0}


@pytest.fixture
def captured_events(monkeypatch):
    """Every event a service broadcasts, as (groups, event), recorded at the one place
    events leave (chat.events._send_now) and still delivered to the real layer.
    On-commit callbacks run when the surrounding test transaction 'commits' via
    django_capture_on_commit_callbacks, or at once in transactional tests."""
    sent = []
    real_send = events._send_now

    def recording_send(groups, event, chat_pk):
        sent.append((list(groups), event))
        real_send(groups, event, chat_pk)

    monkeypatch.setattr(events, "_send_now", recording_send)
    return sent


@pytest.fixture
async def channel_layer():
    layer = get_channel_layer()
    yield layer
    if hasattr(layer, "flush"):
        await layer.flush()
