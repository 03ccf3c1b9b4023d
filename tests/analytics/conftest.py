import pytest

from chat import services as chat_services
from tests.factories import DepartmentFactory, OperatorFactory, start_chat


@pytest.fixture
def department(db):
    return DepartmentFactory(name="Reference Desk", slug="reference-test")


@pytest.fixture
def operator(department):
    return OperatorFactory(
        user__username="alice-t", user__first_name="Alice", departments=[department]
    )


@pytest.fixture
def staff_client(client, operator):
    client.force_login(operator.user)
    return client


@pytest.fixture
def ended_chat(department, operator):
    """A chat claimed by ``operator`` and ended by them."""
    chat, _ = start_chat(department, question="Do you have 19th-century atlases?", name="Pat")
    chat_services.chat_claim(chat_id=chat.pk, operator=operator)
    return chat_services.chat_end(chat_id=chat.pk, by="operator", operator=operator)


@pytest.fixture
def eager_celery():
    """Tasks run at once (with Redis configured they would go to a broker with no worker)."""
    from libdesk.celery import app as celery_app

    old = celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates
    celery_app.conf.task_always_eager = True
    celery_app.conf.task_eager_propagates = True
    yield
    celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates = old
