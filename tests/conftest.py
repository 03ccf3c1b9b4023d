import asyncio
import inspect
import os
import uuid
from pathlib import Path

import pytest
from channels.layers import get_channel_layer
from django.db import connections

from chat import event_sending


def pytest_configure(config):
    """The translations compiled (locale/*.po → .mo, as `make test` does first), so that a
    bare `pytest` and the browser tests' desk see the same catalogs as the demo."""
    from libdesk.i18n import compile_catalogs

    compile_catalogs()


# Consumer tests reach the database from asgiref's worker threads; with persistent
# connections those would outlive the test run and block dropping the test database.
connections.settings["default"]["CONN_MAX_AGE"] = 0


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix):
    """A test database of this run's own (name with the process id), so that two runs
    at once on one machine (two checkouts, or CI beside a developer) never share one."""
    from django.conf import settings

    database = settings.DATABASES["default"]
    test = database.setdefault("TEST", {})
    if database["ENGINE"].endswith("sqlite3"):
        stem = Path(test.get("NAME") or Path(settings.VAR_DIR) / "test.sqlite3")
        test["NAME"] = str(stem.with_name(f"{stem.stem}-{os.getpid()}{stem.suffix}"))
    else:
        test["NAME"] = f"test_{database['NAME']}_{os.getpid()}"


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """Close PostgreSQL connection pools before the test database is dropped (a pool
    keeps connections open, which would block DROP DATABASE)."""
    yield
    with django_db_blocker.unblock():
        for connection in connections.all():
            if connection.vendor == "postgresql":
                # Worker threads of async tests may still hold a connection checked out.
                with connection.cursor() as cursor:
                    cursor.execute(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                        " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                    )
            if getattr(connection, "pool", None) is not None:
                connection.close_pool()


@pytest.fixture(autouse=True, scope="session")
def _celery_runs_tasks_here():
    """Unit tests run Celery tasks in-process, on either configuration: nothing piles up
    in a shared broker. The browser tests' server uses a real worker with Redis."""
    from libdesk.celery import app

    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True


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
    events leave (chat.event_sending._send_now) and still delivered to the real layer.
    On-commit callbacks run when the surrounding test transaction 'commits' via
    django_capture_on_commit_callbacks, or at once in transactional tests."""
    sent = []
    real_send = event_sending._send_now

    def recording_send(groups, event, chat_pk):
        sent.append((list(groups), event))
        real_send(groups, event, chat_pk)

    monkeypatch.setattr(event_sending, "_send_now", recording_send)
    return sent


@pytest.fixture
async def channel_layer():
    layer = get_channel_layer()
    yield layer
    if hasattr(layer, "flush"):
        await layer.flush()


@pytest.fixture(autouse=True)
def _no_browser_loop_marked_running(request):
    """Playwright's sync API (the browser tests) leaves its event loop marked as the
    thread's running loop between calls, so an asyncio test that comes after a browser
    test in the same run would refuse to start ("cannot be called from a running event
    loop"). Cleared for coroutine tests, and put back after them for the next browser
    call."""
    if not inspect.iscoroutinefunction(getattr(request, "function", None)):
        yield
        return
    marked = asyncio._get_running_loop()
    asyncio._set_running_loop(None)
    try:
        yield
    finally:
        asyncio._set_running_loop(marked)
