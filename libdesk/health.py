"""``GET /healthz``: answered before Django's host checks, so a container health check
can ask it on 127.0.0.1 whatever ALLOWED_HOSTS says, by Daphne (``HealthCheck``) and by
Gunicorn (``HealthCheckWSGI``) alike; through the proxy ``/healthz`` reaches the pages
and ``/healthz/sockets`` a Daphne process. It proves the process serves and reaches the
database; it tells nothing else."""

from asgiref.sync import sync_to_async
from django.db import connection


def _database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except Exception:
        return False
    finally:
        connection.close()


class HealthCheck:
    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and scope["path"] == "/healthz":
            ok = await sync_to_async(_database_ok, thread_sensitive=False)()
            body = b"ok\n" if ok else b"database unavailable\n"
            await send(
                {
                    "type": "http.response.start",
                    "status": 200 if ok else 503,
                    "headers": [(b"content-type", b"text/plain"), (b"cache-control", b"no-store")],
                }
            )
            await send({"type": "http.response.body", "body": body})
            return
        await self.app(scope, receive, send)


class HealthCheckWSGI:
    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        if environ.get("PATH_INFO") == "/healthz":
            ok = _database_ok()
            start_response(
                "200 OK" if ok else "503 Service Unavailable",
                [("Content-Type", "text/plain"), ("Cache-Control", "no-store")],
            )
            return [b"ok\n" if ok else b"database unavailable\n"]
        return self.app(environ, start_response)
