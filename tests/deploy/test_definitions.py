"""One definition of every process (deploy/services.toml): the compose file, the systemd
units and the nginx sites say the same, or these fail."""

import fnmatch
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from deploy.stack import ROOT, load_definition, read_env_file, render, rendered_copies

DEFINITION = load_definition()
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
COMPOSE_VALUES = {"bind": "0.0.0.0", "port": 8000, "app": "/app", "node": "worker@worker"}
SYSTEMD = ROOT / "deploy" / "systemd"
VM_VALUES = {"bind": "127.0.0.1", "app": "/srv/libdesk", "node": "worker@%H"}
VM_PORTS = {"web": "%i", "pages": 8100}
UNITS = {
    "web": "libdesk-web@.service",
    "pages": "libdesk-pages.service",
    "worker": "libdesk-worker.service",
    "beat": "libdesk-beat.service",
}


def compose_healthcheck(service):
    test = COMPOSE[service]["healthcheck"]["test"]
    assert test[0] == "CMD", "health checks run without a shell, as services.toml says"
    return test[1:]


@pytest.mark.parametrize("service", sorted(DEFINITION["services"]))
def test_compose_runs_what_the_definition_says(service):
    spec = DEFINITION["services"][service]
    assert COMPOSE[service]["command"] == render(spec["command"], **COMPOSE_VALUES)
    if "healthcheck" in spec:
        assert compose_healthcheck(service) == render(spec["healthcheck"], **COMPOSE_VALUES)
    else:
        assert "healthcheck" not in COMPOSE[service]
    assert COMPOSE[service]["environment"] == render(
        DEFINITION["common"]["environment"], **COMPOSE_VALUES
    )
    assert COMPOSE[service]["env_file"] == ".env"


def unit_settings(path):
    settings = {}
    for line in path.read_text().splitlines():
        if "=" in line and not line.startswith("#"):
            key, _, value = line.partition("=")
            settings.setdefault(key, []).append(value)
    return settings


@pytest.mark.parametrize("service", sorted(UNITS))
def test_the_systemd_units_run_what_the_definition_says(service):
    spec = DEFINITION["services"][service]
    unit = unit_settings(SYSTEMD / UNITS[service])
    values = dict(VM_VALUES, port=VM_PORTS.get(service, 0))
    command = render(spec["command"], **values)
    (exec_start,) = unit["ExecStart"]
    program, *arguments = exec_start.split(" ")
    assert program == f"/srv/libdesk/.venv/bin/{command[0]}"
    assert arguments == command[1:]
    environment = dict(item.split("=", 1) for item in unit["Environment"])
    assert environment == render(DEFINITION["common"]["environment"], **values)
    assert unit["EnvironmentFile"] == ["/srv/libdesk/.env"]
    assert unit["WorkingDirectory"] == ["/srv/libdesk"]


@pytest.mark.skipif(not shutil.which("systemd-analyze"), reason="no systemd-analyze")
def test_the_systemd_units_verify(tmp_path):
    # As installed: the programs where the units say, here this checkout's virtualenv.
    venv_bin = str(Path(sys.executable).parent)
    names = []
    for unit in SYSTEMD.iterdir():
        text = unit.read_text().replace("/srv/libdesk/.venv/bin", venv_bin)
        text = text.replace("User=libdesk", "User=root").replace("Group=libdesk", "Group=root")
        name = unit.name.replace("@.service", "@8001.service")
        (tmp_path / name).write_text(text)
        if unit.name == "libdesk-web@.service":
            (tmp_path / unit.name).write_text(text)
        names.append(name)
    result = subprocess.run(
        ["systemd-analyze", "verify", *sorted(names)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    problems = [
        line
        for line in result.stderr.splitlines()
        # Units it names but this machine does not have (PostgreSQL, Redis).
        if not fnmatch.fnmatch(line, "*postgresql.service*")
        and not fnmatch.fnmatch(line, "*redis-server.service*")
    ]
    assert result.returncode == 0 and not problems, result.stderr


def test_the_checked_in_nginx_sites_are_rendered_from_the_template():
    copies = rendered_copies()
    assert set(copies) == {"docker/nginx.conf", "deploy/nginx/libdesk.conf"}
    for path, text in copies.items():
        assert (ROOT / path).read_text() == text, (
            f"run: python -m deploy.stack render-nginx ({path})"
        )
    assert "server web:8000" in copies["docker/nginx.conf"]
    assert "server 127.0.0.1:8002" in copies["deploy/nginx/libdesk.conf"]


def test_the_image_leaves_secrets_and_local_data_out():
    ignored = (ROOT / ".dockerignore").read_text().split()
    for path in (".env", ".venv", "var", "docker/certs"):
        assert path in ignored
    assert "!.env.example" in ignored


def example_env(**overrides):
    env = read_env_file(ROOT / ".env.example")
    env.update(overrides)
    return {"PATH": "/usr/bin:/bin", **env}


def settings_of(env, code):
    return subprocess.run(
        [
            sys.executable,
            "-c",
            f"import django; django.setup(); from django.conf import settings; {code}",
        ],
        cwd=ROOT,
        env={
            **env,
            "DJANGO_SETTINGS_MODULE": "libdesk.settings",
            "STATIC_ROOT": "/tmp/libdesk-static",
        },
        capture_output=True,
        text=True,
    )


def test_an_empty_celery_broker_in_the_env_file_means_redis():
    env = example_env(SECRET_KEY="x" * 60)
    assert env["CELERY_BROKER_URL"] == ""  # as the example ships it
    result = settings_of(env, "print(settings.CELERY_BROKER_URL)")
    assert result.stdout.strip() == "redis://redis:6379/0", result.stderr


def test_the_example_says_how_to_make_the_missing_secret_key():
    result = settings_of(example_env(), "pass")
    assert result.returncode != 0
    assert "SECRET_KEY is empty" in result.stderr and "secrets.token_urlsafe" in result.stderr


def test_check_deploy_is_clean_with_the_example_values():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env={
            **example_env(SECRET_KEY="k" * 20 + "-Q9z" * 12),
            "STATIC_ROOT": "/tmp/libdesk-static",
        },
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout
