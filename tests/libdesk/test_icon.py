"""The desk's own icon: every page names it, so browsers stop asking for /favicon.ico
(which answers 404), and it is served like the other static files, under the pages'
Content-Security-Policy (img-src 'self')."""

import re

import pytest
from django.contrib.auth.models import User

from tests.factories import DepartmentFactory, OperatorFactory

pytestmark = pytest.mark.django_db

ICON = re.compile(r'<link rel="icon" href="(?P<href>[^"]+)" type="image/svg\+xml">')


def _icon_of(response) -> str:
    assert response.status_code == 200, response.status_code
    found = ICON.findall(response.content.decode())
    assert len(found) == 1, f"{response.request['PATH_INFO']} names {len(found)} icons"
    return found[0]


def test_every_kind_of_page_names_the_desks_icon(client):
    department = DepartmentFactory(slug="reference")
    operator = OperatorFactory(departments=[department])
    icons = {_icon_of(client.get("/accounts/login/"))}  # before logging in
    icons.add(_icon_of(client.get("/widget/reference/")))  # the patron's widget
    client.force_login(operator.user)
    for path in ("/dashboard/", "/history/", "/tickets/", "/analytics/"):
        icons.add(_icon_of(client.get(path)))
    client.force_login(User.objects.create_superuser("root", "root@example.org", "x"))
    icons.add(_icon_of(client.get("/admin/")))
    icons.add(_icon_of(client.get("/admin/chat/department/add/")))
    assert len(icons) == 1
    (href,) = icons
    assert href.startswith("/static/common/icon") and href.endswith(".svg")
    assert "favicon.ico" not in href


def test_the_icon_is_served_as_an_svg_image_the_csp_allows(client):
    href = _icon_of(client.get("/accounts/login/"))
    page = client.get("/accounts/login/")
    assert "img-src 'self'" in page["Content-Security-Policy"]
    icon = client.get(href)
    assert icon.status_code == 200
    assert icon["Content-Type"] == "image/svg+xml"
    body = b"".join(icon.streaming_content) if icon.streaming else icon.content
    assert body.startswith(b"<svg") and b"</svg>" in body
