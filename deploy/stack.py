"""The production topology on one machine without containers, from the definitions the
compose file and the systemd units copy (deploy/services.toml, deploy/nginx/site.conf.in):
nginx with TLS in front, Gunicorn for pages, Daphne processes for sockets, a Celery
worker and beat, on this machine's PostgreSQL and Redis, configured by an env file.

    python -m deploy.stack run    --env-file FILE --dir DIR   # up; Ctrl-C stops it all
    python -m deploy.stack up     --env-file FILE --dir DIR   # up, in the background
    python -m deploy.stack down   --dir DIR
    python -m deploy.stack health --env-file FILE --dir DIR
    python -m deploy.stack backup --env-file FILE --dir DIR OUT
    python -m deploy.stack restore --env-file FILE --dir DIR IN
    python -m deploy.stack init-env FILE [KEY=VALUE...]       # a first env file
    python -m deploy.stack render-nginx                       # the checked-in copies

The processes see only the env file (as compose's ``env_file`` passes it: an empty value
is an empty string) and each service's environment from services.toml, never the
environment of whoever started them. Native-only keys (``STACK_*``) say the ports and
the certificate.
"""

import argparse
import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tarfile
import time
import tomllib
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
DEFINITION = ROOT / "deploy" / "services.toml"
SITE_TEMPLATE = ROOT / "deploy" / "nginx" / "site.conf.in"
NGINX = os.environ.get("NGINX", shutil.which("nginx") or "/usr/sbin/nginx")
BIND = "127.0.0.1"


def load_definition() -> dict:
    with open(DEFINITION, "rb") as file:
        return tomllib.load(file)


def render(value, **values):
    """Fill the {placeholders} of a string, or of every string in a list or table."""
    if isinstance(value, str):
        for key, replacement in values.items():
            value = value.replace("{" + key + "}", str(replacement))
        return value
    if isinstance(value, list):
        return [render(item, **values) for item in value]
    if isinstance(value, dict):
        return {key: render(item, **values) for key, item in value.items()}
    return value


def read_env_file(path) -> dict:
    """KEY=VALUE lines as docker compose's ``env_file`` reads them: ``#`` lines and blank
    lines skipped, the value taken whole (an empty one stays empty), quotes around it
    removed."""
    env = {}
    for line in Path(path).read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        env[key.strip()] = value
    return env


def render_site(**settings) -> str:
    """The nginx site from its template: ``web`` and ``pages`` are lists of host:port."""
    https_port = int(settings["https_port"])
    replacements = {
        "@WEB_SERVERS@": "\n".join(
            f"    server {server} max_fails=1 fail_timeout=5s;" for server in settings["web"]
        ),
        "@PAGES_SERVERS@": "\n".join(f"    server {server};" for server in settings["pages"]),
        "@HTTP_PORT@": str(settings["http_port"]),
        "@HTTPS_PORT@": str(https_port),
        "@HTTPS_SUFFIX@": "" if https_port == 443 else f":{https_port}",
        "@SERVER_NAME@": settings["server_name"],
        "@TLS_CERT@": settings["tls_cert"],
        "@TLS_KEY@": settings["tls_key"],
    }
    text = SITE_TEMPLATE.read_text()
    for placeholder, replacement in replacements.items():
        text = text.replace(placeholder, replacement)
    return text


def rendered_copies() -> dict:
    """{path: text} of the checked-in renderings of the site (compose's, a VM's)."""
    copies = {}
    for settings in load_definition()["nginx"].values():
        copies[settings["file"]] = render_site(**settings)
    return copies


def init_env(path, **overrides) -> None:
    """A first env file: .env.example with a fresh SECRET_KEY and the overrides."""
    lines = []
    for line in (ROOT / ".env.example").read_text().splitlines():
        key = line.partition("=")[0].strip()
        if not line.startswith("#") and "=" in line:
            if key == "SECRET_KEY":
                line = f"SECRET_KEY={secrets.token_urlsafe(50)}"
            elif key in overrides:
                line = f"{key}={overrides.pop(key)}"
        lines.append(line)
    lines += [f"{key}={value}" for key, value in overrides.items()]
    Path(path).write_text("\n".join(lines) + "\n")


def _listening(port) -> bool:
    with contextlib.suppress(OSError), socket.create_connection((BIND, port), timeout=0.5):
        return True
    return False


class Stack:
    def __init__(self, env_file, directory):
        self.env_file = Path(env_file).resolve()
        self.dir = Path(directory).resolve()
        self.file_env = read_env_file(self.env_file)
        self.definition = load_definition()
        get = self.file_env.get
        self.http_port = int(get("STACK_HTTP_PORT") or 8080)
        self.https_port = int(get("STACK_HTTPS_PORT") or 8443)
        self.web_ports = [int(p) for p in (get("STACK_WEB_PORTS") or "8001,8002").split(",")]
        self.pages_port = int(get("STACK_PAGES_PORT") or 8100)
        self.server_name = get("STACK_SERVER_NAME") or "localhost"
        self.node = f"worker-{self.https_port}@{socket.gethostname()}"
        self.logs = self.dir / "logs"
        self.state_file = self.dir / "stack.json"
        self.processes: dict[str, subprocess.Popen] = {}
        # Process group ids of what runs, also those another `up` started (the state file).
        self.pids: dict[str, int] = (
            json.loads(self.state_file.read_text()) if self.state_file.exists() else {}
        )

    # --- what each process is --------------------------------------------------------
    def values(self, port=0) -> dict:
        return {"bind": BIND, "port": port, "app": self.dir, "node": self.node}

    def env(self) -> dict:
        """The environment of every LibDesk process: the env file, then services.toml's."""
        base = {k: os.environ[k] for k in ("HOME", "LANG", "TMPDIR", "TZ") if k in os.environ}
        venv_bin = str(Path(sys.executable).parent)
        base["PATH"] = f"{venv_bin}:/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin"
        base["PYTHONUNBUFFERED"] = "1"
        env = {**base, **self.file_env}
        env.update(render(self.definition["common"]["environment"], **self.values()))
        return env

    def ports(self, service) -> list[int]:
        if service == "web":
            return self.web_ports
        if service == "pages":
            return [self.pages_port]
        return [0]

    def instances(self) -> list[tuple[str, int, list[str]]]:
        """(name, port, command) of every long-running process but nginx."""
        found = []
        for service, spec in self.definition["services"].items():
            if spec.get("once"):
                continue
            for index, port in enumerate(self.ports(service)[: spec["native_instances"]]):
                name = f"{service}{index + 1}" if service == "web" else service
                found.append((name, port, render(spec["command"], **self.values(port))))
        return found

    def healthchecks(self) -> list[tuple[str, list[str]]]:
        checks = []
        for name, port, _command in self.instances():
            spec = self.definition["services"][name.rstrip("0123456789")]
            if "healthcheck" in spec:
                checks.append((name, render(spec["healthcheck"], **self.values(port))))
        return checks

    # --- bringing it up ----------------------------------------------------------------
    def run_once(self, command, timeout=600) -> str:
        result = subprocess.run(
            command, cwd=ROOT, env=self.env(), capture_output=True, text=True, timeout=timeout
        )
        if result.returncode != 0:
            raise RuntimeError(f"{command} failed:\n{result.stdout}\n{result.stderr}")
        return result.stdout

    def ensure_services(self) -> None:
        """PostgreSQL and Redis answer, and the env file's database exists."""
        import psycopg
        import redis

        redis.Redis.from_url(self.file_env["REDIS_URL"], socket_timeout=5).ping()
        url = self.file_env["DATABASE_URL"]
        parts = urlsplit(url)
        name = parts.path.lstrip("/")
        admin = urlunsplit(("postgresql", parts.netloc, "/postgres", "", ""))
        with psycopg.connect(admin, autocommit=True) as conn:
            if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
                conn.execute(f'CREATE DATABASE "{name}"')

    def certificate(self) -> tuple[str, str]:
        cert = self.file_env.get("STACK_TLS_CERT")
        key = self.file_env.get("STACK_TLS_KEY")
        if cert and key:
            return cert, key
        tls = self.dir / "tls"
        tls.mkdir(parents=True, exist_ok=True)
        cert, key = tls / "libdesk.crt", tls / "libdesk.key"
        if not cert.exists():
            subprocess.run(
                [
                    "openssl",
                    "req",
                    "-x509",
                    "-newkey",
                    "rsa:2048",
                    "-nodes",
                    "-days",
                    "30",
                    "-subj",
                    f"/CN={self.server_name}",
                    "-addext",
                    f"subjectAltName=DNS:{self.server_name},DNS:localhost,IP:127.0.0.1",
                    "-keyout",
                    str(key),
                    "-out",
                    str(cert),
                ],
                check=True,
                capture_output=True,
            )
        return str(cert), str(key)

    def write_nginx_conf(self) -> Path:
        cert, key = self.certificate()
        nginx = self.dir / "nginx"
        for temp in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
            (nginx / "tmp" / temp).mkdir(parents=True, exist_ok=True)
            (nginx / "tmp" / temp).chmod(0o777)  # nginx's workers may run as nobody
        site = render_site(
            server_name=self.server_name,
            http_port=self.http_port,
            https_port=self.https_port,
            tls_cert=cert,
            tls_key=key,
            web=[f"{BIND}:{port}" for port in self.web_ports],
            pages=[f"{BIND}:{self.pages_port}"],
        )
        (nginx / "libdesk.conf").write_text(site)
        temps = "\n".join(
            f"    {temp}_temp_path {nginx / 'tmp' / temp};"
            for temp in ("proxy", "fastcgi", "uwsgi", "scgi")
        )
        conf = nginx / "nginx.conf"
        conf.write_text(
            f"""worker_processes 1;
pid {nginx / "nginx.pid"};
error_log {self.logs / "nginx-error.log"} warn;
events {{ worker_connections 4096; }}
http {{
    access_log {self.logs / "nginx-access.log"};
    client_body_temp_path {nginx / "tmp" / "body"};
{temps}
    # No temporary files: run as root, nginx's workers are "nobody", who may not reach
    # this folder. Bodies up to the site's client_max_body_size stay in memory, and
    # large answers are passed on as they come instead of spooled to disk.
    client_body_buffer_size 12m;
    proxy_max_temp_file_size 0;
    include {nginx / "libdesk.conf"};
}}
"""
        )
        return conf

    def start(self, name, command) -> subprocess.Popen:
        log = open(self.logs / f"{name}.log", "ab")  # noqa: SIM115 - the child keeps it
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=self.env(),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stopped with its children
        )
        log.close()
        self.processes[name] = process
        self.pids[name] = process.pid
        self.save_state()
        return process

    def start_instance(self, name) -> subprocess.Popen:
        for instance, port, command in self.instances():
            if instance == name:
                process = self.start(name, command)
                if port:
                    self.wait_for_port(port, process)
                return process
        raise KeyError(name)

    def up(self) -> None:
        self.logs.mkdir(parents=True, exist_ok=True)
        (self.dir / "var").mkdir(parents=True, exist_ok=True)
        self.ensure_services()
        migrate = self.definition["services"]["migrate"]["command"]
        self.run_once(render(migrate, **self.values()))
        # The image runs collectstatic at build time (Dockerfile); here, at each start.
        self.run_once(["python", "manage.py", "collectstatic", "--noinput", "-v0"])
        conf = self.write_nginx_conf()
        subprocess.run([NGINX, "-t", "-q", "-p", str(conf.parent), "-c", str(conf)], check=True)
        try:
            for name, _port, command in self.instances():
                self.start(name, command)
            self.start(
                "proxy", [NGINX, "-p", str(conf.parent), "-c", str(conf), "-g", "daemon off;"]
            )
            for name, port, _command in self.instances():
                if port:
                    self.wait_for_port(port, self.processes[name])
            self.wait_for_port(self.https_port, self.processes["proxy"])
            self.wait_healthy()
        except BaseException:
            self.down()
            raise

    def wait_for_port(self, port, process, timeout=60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"a process exited with {process.returncode}; see {self.logs}")
            if _listening(port):
                return
            time.sleep(0.1)
        raise RuntimeError(f"nothing listens on {port} after {timeout}s; see {self.logs}")

    def health(self) -> dict[str, bool]:
        """Every service's own health check, as compose runs it inside the container."""
        results = {}
        for name, command in self.healthchecks():
            result = subprocess.run(
                command, cwd=ROOT, env=self.env(), capture_output=True, timeout=60
            )
            results[name] = result.returncode == 0
        return results

    def wait_healthy(self, timeout=90.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            results = self.health()
            if all(results.values()):
                return
            if time.monotonic() > deadline:
                raise RuntimeError(f"unhealthy: {results}; see {self.logs}")
            time.sleep(1)

    # --- stopping it -------------------------------------------------------------------
    def save_state(self) -> None:
        self.state_file.write_text(json.dumps(self.pids))

    def stop(self, name, sig=signal.SIGTERM, timeout=15.0) -> None:
        """Stop one process (and its children) by its own process group."""
        process = self.processes.pop(name, None)
        pid = self.pids.pop(name, None)
        if pid is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, sig)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if process is not None:
                if process.poll() is not None:
                    break
            elif not Path(f"/proc/{pid}").exists():
                break
            time.sleep(0.1)
        else:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)
            if process is not None:
                process.wait(timeout=5)
        self.save_state()

    def down(self) -> None:
        names = list(self.pids)
        for name in ["proxy", *[n for n in names if n != "proxy"]]:
            if name in names:
                self.stop(name)
        with contextlib.suppress(FileNotFoundError):
            self.state_file.unlink()

    # --- backup and restore --------------------------------------------------------------
    def media_root(self) -> Path:
        env = self.env()
        return Path(env.get("MEDIA_ROOT") or Path(env["LIBDESK_VAR_DIR"]) / "media")

    def backup(self, out) -> None:
        """The one database (pg_dump, custom format) and the uploaded files (a tar)."""
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        database = _libpq_url(self.file_env["DATABASE_URL"])
        subprocess.run(
            [
                "pg_dump",
                "--format=custom",
                "--no-owner",
                f"--file={out / 'libdesk.dump'}",
                database,
            ],
            check=True,
        )
        with tarfile.open(out / "media.tar.gz", "w:gz") as tar:
            media = self.media_root()
            if media.exists():
                tar.add(media, arcname="media")

    def restore(self, source) -> None:
        """Into the env file's database (empty, just created) and MEDIA_ROOT; then run
        migrate (the release's newer migrations) before starting the processes."""
        source = Path(source)
        database = _libpq_url(self.file_env["DATABASE_URL"])
        subprocess.run(
            [
                "pg_restore",
                "--no-owner",
                "--exit-on-error",
                f"--dbname={database}",
                str(source / "libdesk.dump"),
            ],
            check=True,
        )
        media = self.media_root()
        media.mkdir(parents=True, exist_ok=True)
        with tarfile.open(source / "media.tar.gz") as tar:
            for member in tar.getmembers():
                if member.name == "media" or not member.name.startswith("media/"):
                    continue
                member.name = member.name.removeprefix("media/")
                tar.extract(member, media, filter="data")


def _libpq_url(url) -> str:
    parts = urlsplit(url)
    return urlunsplit(("postgresql", parts.netloc, parts.path, parts.query, ""))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m deploy.stack", description=__doc__)
    parser.add_argument(
        "action",
        choices=[
            "run",
            "up",
            "down",
            "health",
            "backup",
            "restore",
            "init-env",
            "render-nginx",
        ],
    )
    parser.add_argument("path", nargs="?")
    parser.add_argument("settings", nargs="*", help="init-env: KEY=VALUE to set")
    parser.add_argument("--env-file", default=str(ROOT / "var" / "stack" / "stack.env"))
    parser.add_argument("--dir", default=str(ROOT / "var" / "stack"))
    args = parser.parse_args(argv)
    if args.action == "init-env":
        init_env(args.path or args.env_file, **dict(item.split("=", 1) for item in args.settings))
        return 0
    if args.action == "render-nginx":
        for path, text in rendered_copies().items():
            (ROOT / path).write_text(text)
        return 0
    stack = Stack(args.env_file, args.dir)
    if args.action in ("run", "up"):
        stack.up()
        url = f"https://{stack.server_name}:{stack.https_port}/"
        print(f"LibDesk runs behind nginx at {url} (logs: {stack.logs})")
        if args.action == "run":
            print("Ctrl-C stops every process it started.")
            signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
            try:
                while all(p.poll() is None for p in stack.processes.values()):
                    time.sleep(1)
                print("a process stopped; stopping the rest", file=sys.stderr)
            except KeyboardInterrupt:
                pass
            finally:
                stack.down()
        return 0
    if args.action == "down":
        stack.down()
    elif args.action == "health":
        results = stack.health()
        for name, ok in results.items():
            print(f"{name}: {'healthy' if ok else 'UNHEALTHY'}")
        return 0 if all(results.values()) else 1
    elif args.action == "backup":
        stack.backup(args.path)
    elif args.action == "restore":
        stack.restore(args.path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
