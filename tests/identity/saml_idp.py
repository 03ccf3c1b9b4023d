"""A SAML 2.0 identity provider for the tests: pysaml2's IdP (saml2.server.Server) in a
small WSGI server, run as its own process (``python -m tests.identity.saml_idp
<settings.json>``) and started and stopped by the tests (``SamlIdp``).

It publishes its metadata, takes the desk's AuthnRequest (HTTP-Redirect binding), asks
for a username and password on a page of its own, and posts its signed Response to the
desk's ACS (HTTP-POST binding), as a campus IdP does; it answers LogoutRequests
(single logout). Each person's entry may ask for a faulty answer ("deliver":
"unsigned", "tampered", "expired"), which pysaml2 then builds so, for the tests of
refusals."""

import html
import json
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs

import saml2
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.config import IdPConfig
from saml2.metadata import create_metadata_string
from saml2.saml import NAME_FORMAT_URI, NAMEID_FORMAT_PERSISTENT
from saml2.server import Server

from tests.liveserver import free_port, wait_for_port

XMLSEC = "/usr/bin/xmlsec1"


def make_key_pair(folder: Path, name: str) -> tuple[str, str]:
    """A fresh RSA key and self-signed certificate (PEM files) for one test run."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    key_file, cert_file = folder / f"{name}.key", folder / f"{name}.crt"
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
    )
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return str(key_file), str(cert_file)


def idp_config(base_url, key_file, cert_file, sp_metadata_file, lifetime_minutes=15):
    config = IdPConfig()
    config.load(
        {
            "entityid": f"{base_url}/idp/metadata",
            "xmlsec_binary": XMLSEC,
            "key_file": key_file,
            "cert_file": cert_file,
            "metadata": {"local": [sp_metadata_file]},
            "service": {
                "idp": {
                    "name": "Test campus IdP",
                    "endpoints": {
                        "single_sign_on_service": [
                            (f"{base_url}/sso/redirect", BINDING_HTTP_REDIRECT)
                        ],
                        "single_logout_service": [
                            (f"{base_url}/slo/redirect", BINDING_HTTP_REDIRECT)
                        ],
                    },
                    "name_id_format": [NAMEID_FORMAT_PERSISTENT],
                    "policy": {
                        "default": {
                            "lifetime": {"minutes": lifetime_minutes},
                            "attribute_restrictions": None,
                            "name_form": NAME_FORMAT_URI,
                        }
                    },
                }
            },
        }
    )
    return config


LOGIN_PAGE = """<!doctype html><html lang="en"><head><title>Campus sign-in</title></head>
<body><h1>Campus sign-in</h1>{error}
<form method="post" action="/sso/login">
<input type="hidden" name="SAMLRequest" value="{request}">
<input type="hidden" name="RelayState" value="{relay}">
<p><label>Campus username <input name="username" autocomplete="off"></label></p>
<p><label>Campus password <input name="password" type="password"></label></p>
<p><button type="submit">Sign in at the campus</button></p></form></body></html>"""


class Application:
    def __init__(self, conf):
        self.conf = conf
        self.people = conf["people"]
        self.server = Server(
            config=idp_config(
                conf["base_url"], conf["key_file"], conf["cert_file"], conf["sp_metadata"]
            )
        )
        self.expired_server = Server(
            config=idp_config(
                conf["base_url"],
                conf["key_file"],
                conf["cert_file"],
                conf["sp_metadata"],
                lifetime_minutes=-10,
            )
        )
        self.logouts = Path(conf["logouts"])

    def __call__(self, environ, start_response):
        path, method = environ["PATH_INFO"], environ["REQUEST_METHOD"]
        query = {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
        if path == "/idp/metadata":
            body = create_metadata_string(None, config=self.server.config).decode()
            return self._send(start_response, body, "application/samlmetadata+xml")
        if path == "/sso/redirect" and method == "GET":
            return self._page(start_response, query["SAMLRequest"], query.get("RelayState", ""))
        if path == "/sso/login" and method == "POST":
            length = int(environ.get("CONTENT_LENGTH") or 0)
            form = {
                k: v[0] for k, v in parse_qs(environ["wsgi.input"].read(length).decode()).items()
            }
            return self._login(start_response, form)
        if path == "/slo/redirect":
            return self._logout(start_response, query)
        return self._send(start_response, "not found", "text/plain", "404 Not Found")

    def _page(self, start_response, saml_request, relay, error=""):
        body = LOGIN_PAGE.format(
            request=html.escape(saml_request),
            relay=html.escape(relay),
            error=f'<p role="alert">{html.escape(error)}</p>' if error else "",
        )
        return self._send(start_response, body)

    def _login(self, start_response, form):
        saml_request, relay = form.get("SAMLRequest", ""), form.get("RelayState", "")
        person = self.people.get(form.get("username", ""))
        if person is None or person["password"] != form.get("password"):
            return self._page(start_response, saml_request, relay, "Wrong username or password.")
        deliver = person.get("deliver", "signed")
        server = self.expired_server if deliver == "expired" else self.server
        request = server.parse_authn_request(saml_request, BINDING_HTTP_REDIRECT).message
        destination = request.assertion_consumer_service_url
        response = server.create_authn_response(
            identity=person["attributes"],
            in_response_to=request.id,
            destination=destination,
            sp_entity_id=request.issuer.text,
            name_id_policy=request.name_id_policy,
            userid=form["username"],
            authn={"class_ref": saml2.saml.AUTHN_PASSWORD, "authn_auth": self.conf["base_url"]},
            sign_assertion=deliver != "unsigned",
            sign_response=False,
        )
        response = str(response)
        if deliver == "tampered":  # a signed assertion whose groups were changed on the way
            response = response.replace(">reference-staff<", ">library-it<")
        http_info = server.apply_binding(
            BINDING_HTTP_POST, response, destination, relay, response=True
        )
        return self._send(start_response, "".join(http_info["data"]))

    def _logout(self, start_response, query):
        request = self.server.parse_logout_request(query["SAMLRequest"], BINDING_HTTP_REDIRECT)
        with self.logouts.open("a") as log:
            log.write(request.message.name_id.text + "\n")
        response = self.server.create_logout_response(request.message, [BINDING_HTTP_REDIRECT])
        destination = self.server.config.metadata.single_logout_service(
            request.message.issuer.text, BINDING_HTTP_REDIRECT, "spsso"
        )[0]["location"]
        http_info = self.server.apply_binding(
            BINDING_HTTP_REDIRECT,
            str(response),
            destination,
            query.get("RelayState", ""),
            response=True,
        )
        location = dict(http_info["headers"])["Location"]
        start_response("302 Found", [("Location", location)])
        return [b""]

    @staticmethod
    def _send(start_response, body, content_type="text/html; charset=utf-8", status="200 OK"):
        data = body.encode()
        start_response(status, [("Content-Type", content_type), ("Content-Length", str(len(data)))])
        return [data]


class SamlIdp:
    """The IdP process: ``metadata_url`` for the desk's SAML_IDP_METADATA_URL; ``start``
    takes the desk's SP metadata (XML) and the people it knows."""

    def __init__(self):
        self.folder = Path(tempfile.mkdtemp(prefix="libdesk-saml-idp-"))
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.metadata_url = f"{self.base_url}/idp/metadata"
        self.key_file, self.cert_file = make_key_pair(self.folder, "idp")
        self.logouts = self.folder / "logouts.txt"
        self.process = None

    def start(self, sp_metadata: str, people: dict):
        (self.folder / "sp.xml").write_text(sp_metadata)
        settings_file = self.folder / "idp.json"
        settings_file.write_text(
            json.dumps(
                {
                    "base_url": self.base_url,
                    "port": self.port,
                    "key_file": self.key_file,
                    "cert_file": self.cert_file,
                    "sp_metadata": str(self.folder / "sp.xml"),
                    "people": people,
                    "logouts": str(self.logouts),
                }
            )
        )
        root = Path(__file__).resolve().parents[2]
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.identity.saml_idp", str(settings_file)],
            cwd=root,
            stdout=subprocess.DEVNULL,
            stderr=open(self.folder / "idp.log", "w"),  # noqa: SIM115 - the process keeps it
        )
        wait_for_port(self.port, self.process)
        return self

    def logged_out(self) -> list[str]:
        return self.logouts.read_text().split() if self.logouts.exists() else []

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        shutil.rmtree(self.folder, ignore_errors=True)


def main(settings_path):
    from wsgiref.simple_server import WSGIRequestHandler, make_server

    class QuietHandler(WSGIRequestHandler):
        def log_message(self, *args):
            pass

    conf = json.loads(Path(settings_path).read_text())
    with make_server(
        "127.0.0.1", conf["port"], Application(conf), handler_class=QuietHandler
    ) as httpd:
        httpd.serve_forever()


if __name__ == "__main__":
    time.sleep(0)
    main(sys.argv[1])
