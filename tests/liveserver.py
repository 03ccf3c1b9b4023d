"""Real desk processes for the tests that need them (browser tests, scale-out tests).

A desk under test is Daphne serving ``libdesk.asgi`` as its own process, on a database
of its own (a SQLite file, or a PostgreSQL database beside the configured one, named
after this run's process id) and, with Redis, a channel-layer prefix of its own: runs at
once on one machine never share anything.
"""

import contextlib
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"


def free_port() -> int:
    with contextlib.closing(socket.socket()) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def wait_for_port(port, process=None, timeout=30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        with contextlib.suppress(OSError), socket.create_connection((HOST, port), timeout=0.5):
            return
        time.sleep(0.05)
    raise RuntimeError(f"server did not listen on {port} in {timeout}s")


def _admin_url(database_url) -> str:
    parts = urlsplit(database_url)
    scheme = parts.scheme.replace("postgresql", "postgres")
    return urlunsplit((scheme, parts.netloc, "/postgres", "", ""))


def _drop(conn, name) -> None:
    conn.execute(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
        " WHERE datname = %s AND pid <> pg_backend_pid()",
        (name,),
    )
    conn.execute(f'DROP DATABASE IF EXISTS "{name}"')


def create_postgres_database(database_url, name) -> str:
    """A fresh database ``name`` beside the one of ``database_url``; returns its URL."""
    import psycopg

    parts = urlsplit(database_url)
    with psycopg.connect(_admin_url(database_url), autocommit=True) as conn:
        _drop(conn, name)
        conn.execute(f'CREATE DATABASE "{name}"')
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, ""))


def drop_postgres_database(database_url) -> None:
    import psycopg

    with psycopg.connect(_admin_url(database_url), autocommit=True) as conn:
        _drop(conn, urlsplit(database_url).path.lstrip("/"))


def manage(env, *args, input_text=None, timeout=120) -> str:
    """``manage.py <args>`` in the desk's environment; returns stdout, raises on failure."""
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        input=input_text,
        timeout=timeout,
    )
    if result.returncode != 0:
        raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


def desk_env(workdir, **overrides) -> dict:
    """The environment of a desk process: this one's, with the desk's own files."""
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "libdesk.settings",
            "LIBDESK_VAR_DIR": str(workdir),
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "PYTHONUNBUFFERED": "1",
            "STATIC_ROOT": str(Path(workdir) / "static"),
        }
    )
    env.update({k: str(v) for k, v in overrides.items()})
    return env


def start_daphne(env, port, log) -> subprocess.Popen:
    """Daphne serving ``libdesk.asgi`` on 127.0.0.1:``port``, started as production
    starts it (``libdesk.run_daphne``: on uvloop unless ``EVENT_LOOP`` in ``env`` says
    otherwise); call ``wait_for_port``."""
    command = ["-m", "libdesk.run_daphne", "-b", HOST, "-p", str(port), "libdesk.asgi:application"]
    return subprocess.Popen(
        [sys.executable, *command],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def stop_processes(processes, timeout=10) -> None:
    for process in processes:
        if process.poll() is None:
            process.terminate()
    for process in processes:
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
