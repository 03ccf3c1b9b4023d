"""Start and stop the test OpenID provider (tests.identity.oidc_op) as a process."""

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from tests.identity.saml_idp import make_key_pair
from tests.liveserver import ROOT, free_port, wait_for_port


class OpenIdProvider:
    def __init__(self):
        self.folder = Path(tempfile.mkdtemp(prefix="libdesk-oidc-op-"))
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.issuer = f"{self.base_url}/o"
        self.process = self.log = None

    def endpoints(self) -> dict:
        """What an IT admin copies from /.well-known/openid-configuration."""
        return {
            "ISSUER": self.issuer,
            "AUTHORIZATION_ENDPOINT": f"{self.issuer}/authorize/",
            "TOKEN_ENDPOINT": f"{self.issuer}/token/",
            "USERINFO_ENDPOINT": f"{self.issuer}/userinfo/",
            "JWKS_ENDPOINT": f"{self.issuer}/.well-known/jwks.json",
            "END_SESSION_ENDPOINT": f"{self.issuer}/logout/",
        }

    def start(self, people: dict, clients: list[dict]):
        key_file, _cert = make_key_pair(self.folder, "op")
        setup_file = self.folder / "setup.json"
        setup_file.write_text(json.dumps({"people": people, "clients": clients}))
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "REDIS"))},
            "DJANGO_SETTINGS_MODULE": "tests.identity.oidc_op.settings",
            "OP_DATABASE": str(self.folder / "op.sqlite3"),
            "OP_KEY_FILE": key_file,
        }
        self.log = open(self.folder / "op.log", "w")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.identity.oidc_op.serve", str(self.port), str(setup_file)],
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        wait_for_port(self.port, self.process, timeout=60)
        return self

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        if self.log:
            self.log.close()
        shutil.rmtree(self.folder, ignore_errors=True)
