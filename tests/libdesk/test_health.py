import pytest
from channels.testing import HttpCommunicator

from libdesk.asgi import application


@pytest.mark.django_db(transaction=True)
async def test_healthz_answers_ok_on_any_host():
    communicator = HttpCommunicator(
        application, "GET", "/healthz", headers=[(b"host", b"10.9.9.9:8000")]
    )
    response = await communicator.get_response()
    assert response["status"] == 200 and response["body"] == b"ok\n"


@pytest.mark.django_db(transaction=True)
async def test_other_paths_still_check_the_host():
    communicator = HttpCommunicator(
        application, "GET", "/demo/", headers=[(b"host", b"evil.example")]
    )
    response = await communicator.get_response()
    assert response["status"] == 400
