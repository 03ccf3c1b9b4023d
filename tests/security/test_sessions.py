"""Sessions that end close that user's open sockets; staff logins are throttled."""

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client

from libdesk.asgi import application
from tests.factories import DepartmentFactory, OperatorFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)
ORIGIN = (b"origin", b"http://127.0.0.1:8000")


async def dashboard_socket(client):
    cookie = f"sessionid={client.cookies['sessionid'].value}".encode()
    communicator = WebsocketCommunicator(
        application,
        "/ws/staff/",
        headers=[ORIGIN, (b"host", b"127.0.0.1:8000"), (b"cookie", cookie)],
    )
    connected, _ = await communicator.connect(timeout=10)
    assert connected
    assert (await communicator.receive_json_from(timeout=10))["type"] == "dashboard.state"
    return communicator


async def expect_closed_for_session_end(communicator):
    while True:
        output = await communicator.receive_output(timeout=10)
        if output["type"] == "websocket.close":
            assert output["code"] == 4401
            return
        if '"session_ended"' in output.get("text", ""):
            continue


@pytest.fixture
def operator(db):
    return OperatorFactory(user=UserFactory(username="sam"), departments=[DepartmentFactory()])


def logged_in_client(user):
    client = Client()
    client.force_login(user)
    return client


async def test_logout_closes_that_sessions_socket_but_not_another_sessions(operator):
    first = await sync_to_async(logged_in_client)(operator.user)
    second = await sync_to_async(logged_in_client)(operator.user)
    first_socket = await dashboard_socket(first)
    second_socket = await dashboard_socket(second)
    response = await sync_to_async(first.post)("/accounts/logout/")
    assert response.status_code == 302
    await expect_closed_for_session_end(first_socket)
    # The other browser stays: whatever reaches it now (a presence broadcast of the
    # connections opening and closing may, through Redis, arrive late) is not a close.
    while not await second_socket.receive_nothing(timeout=0.3):
        assert (await second_socket.receive_output())["type"] == "websocket.send"
    await second_socket.send_json_to({"type": "ping"})
    assert (await second_socket.receive_json_from(timeout=10))["type"] == "pong"
    await second_socket.disconnect()


async def test_password_change_closes_every_socket_of_the_user(operator):
    client = await sync_to_async(logged_in_client)(operator.user)
    socket = await dashboard_socket(client)

    def change_password():
        operator.user.set_password("a-new-long-password-123")
        operator.user.save()

    await sync_to_async(change_password)()
    await expect_closed_for_session_end(socket)


async def test_deactivation_closes_every_socket_of_the_user(operator):
    client = await sync_to_async(logged_in_client)(operator.user)
    socket = await dashboard_socket(client)

    def deactivate():
        operator.user.is_active = False
        operator.user.save()

    await sync_to_async(deactivate)()
    await expect_closed_for_session_end(socket)


async def test_a_session_that_expired_is_closed_at_the_next_heartbeat(operator):
    client = await sync_to_async(logged_in_client)(operator.user)
    socket = await dashboard_socket(client)
    await sync_to_async(client.session.delete)()  # e.g. expired and cleaned up
    await socket.send_json_to({"type": "ping"})
    await expect_closed_for_session_end(socket)


def test_staff_login_is_throttled_after_repeated_failures(settings, operator):
    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = 3
    client = Client()
    statuses = [
        client.post("/accounts/login/", {"username": "sam", "password": "wrong"}).status_code
        for _ in range(3)
    ]
    assert statuses == [200, 200, 429]  # the third failure locks the pair out
    # now even the right password is refused
    response = client.post("/accounts/login/", {"username": "sam", "password": "pw-for-tests"})
    assert response.status_code == 429
    assert "Too many failed log-in attempts" in response.content.decode()
    # another account from the same address is not locked out
    other = OperatorFactory(user=UserFactory(username="kim"))
    response = client.post(
        "/accounts/login/", {"username": other.user.username, "password": "pw-for-tests"}
    )
    assert response.status_code == 302
