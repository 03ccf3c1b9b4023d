"""Production settings, the Content-Security-Policy and framing rules."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from tests.factories import DepartmentFactory, OperatorFactory

ROOT = Path(__file__).resolve().parents[2]

PRODUCTION_ENV = {
    "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/libdesk_ci",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
    "SECRET_KEY": secrets.token_urlsafe(50),
    "LIBDESK_REQUIRE_SECRET_KEY": "1",
    "ALLOWED_HOSTS": "desk.library.example",
    "SECURE_PROXY_SSL_HEADER": "HTTP_X_FORWARDED_PROTO,https",
    "SECURE_SSL_REDIRECT": "1",
    "SECURE_COOKIES": "1",
    "SECURE_HSTS_SECONDS": "31536000",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS": "1",
    "SECURE_HSTS_PRELOAD": "1",
}


def test_production_settings_pass_check_deploy_without_warnings():
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"} | PRODUCTION_ENV
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key():
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"} | PRODUCTION_ENV
    env["SECRET_KEY"] = ""
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0 and "SECRET_KEY is empty" in result.stderr


@pytest.mark.django_db
def test_staff_pages_have_a_strict_csp_and_cannot_be_framed(client):
    operator = OperatorFactory(departments=[DepartmentFactory()])
    client.force_login(operator.user)
    response = client.get("/dashboard/")
    assert response.status_code == 200
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "'unsafe-inline'" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response["X-Frame-Options"] == "DENY"
    assert "<script>" not in response.content.decode()  # no inline script


@pytest.mark.django_db
def test_the_widget_may_be_framed_only_by_the_allowed_sites(client, settings):
    DepartmentFactory(slug="reference")
    settings.WIDGET_ALLOWED_EMBEDDERS = ["https://library.example", "https://www.library.example"]
    response = client.get("/widget/reference/")
    assert response.status_code == 200
    csp = response["Content-Security-Policy"]
    assert "frame-ancestors 'self' https://library.example https://www.library.example" in csp
    assert "script-src 'self'" in csp
    assert "X-Frame-Options" not in response


@pytest.mark.django_db
def test_login_page_has_csp_too(client):
    response = client.get("/accounts/login/")
    assert "default-src 'self'" in response["Content-Security-Policy"]
