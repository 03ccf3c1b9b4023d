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


@pytest.mark.django_db(transaction=True)
def test_the_pages_server_answers_healthz_on_any_host_too():
    from libdesk.wsgi import application as wsgi_application

    answer = {}

    def start_response(status, headers):
        answer["status"] = status

    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": "/healthz",
        "HTTP_HOST": "10.9.9.9:8000",
        "wsgi.url_scheme": "http",
        "SERVER_NAME": "x",
        "SERVER_PORT": "8000",
    }
    body = b"".join(wsgi_application(environ, start_response))
    assert answer["status"] == "200 OK" and body == b"ok\n"
