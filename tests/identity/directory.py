"""A real OpenLDAP directory for the tests: Debian's slapd, started on a free loopback
port with a generated database in a temporary folder, stopped afterwards.

The directory holds a library's people and groups as a campus directory would:
inetOrgPerson entries under ou=people, groupOfNames under ou=groups, and the password
policy overlay (ppolicy), with which a campus locks an account (pwdAccountLockedTime):
slapd then refuses that person's bind, as a disabled account is refused."""

import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import ldap
import ldap.modlist

SLAPD = shutil.which("slapd") or "/usr/sbin/slapd"
SCHEMA = Path("/etc/ldap/schema")
BASE = "dc=library,dc=example"
ADMIN_DN = f"cn=admin,{BASE}"
ADMIN_PASSWORD = "directory-admin-secret"
# The desk's own service account: reads people and groups (LDAP_BIND_DN).
READER_DN = f"cn=libdesk,ou=services,{BASE}"
READER_PASSWORD = "libdesk-reader-secret"

PEOPLE = [
    # uid, given name, surname, password, groups
    ("rosa", "Rosa", "Parkes-Ivanova", "rosa-campus-pw", ["reference-staff"]),
    ("omar", "Omar", "Haddad", "omar-campus-pw", ["archives-staff", "library-it"]),
    ("lena", "Lena", "Sørensen", "lena-campus-pw", ["reference-staff"]),  # locked
    ("jo", "Jo", "Visitor", "jo-campus-pw", ["students"]),
]
LOCKED = {"lena"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def person_dn(uid):
    return f"uid={uid},ou=people,{BASE}"


def group_dn(name):
    return f"cn={name},ou=groups,{BASE}"


def _ldif(people) -> str:
    entries = [
        f"dn: {BASE}\nobjectClass: dcObject\nobjectClass: organization\no: Library\ndc: library",
        f"dn: ou=people,{BASE}\nobjectClass: organizationalUnit\nou: people",
        f"dn: ou=groups,{BASE}\nobjectClass: organizationalUnit\nou: groups",
        f"dn: ou=services,{BASE}\nobjectClass: organizationalUnit\nou: services",
        f"dn: ou=policies,{BASE}\nobjectClass: organizationalUnit\nou: policies",
        f"dn: cn=default,ou=policies,{BASE}\nobjectClass: pwdPolicy\nobjectClass: device\n"
        "cn: default\npwdAttribute: userPassword\npwdLockout: TRUE",
        f"dn: {READER_DN}\nobjectClass: simpleSecurityObject\nobjectClass: organizationalRole\n"
        f"cn: libdesk\nuserPassword: {READER_PASSWORD}",
    ]
    for uid, given, surname, password, _groups in people:
        entry = (
            f"dn: {person_dn(uid)}\nobjectClass: inetOrgPerson\nuid: {uid}\n"
            f"cn:: {_b64(f'{given} {surname}')}\ngivenName:: {_b64(given)}\n"
            f"sn:: {_b64(surname)}\nmail: {uid}@library.example\nuserPassword: {password}"
        )
        if uid in LOCKED:
            entry += "\npwdAccountLockedTime: 000001010000Z"
        entries.append(entry)
    groups = sorted({group for *_rest, groups in people for group in groups})
    for group in groups:
        members = [person_dn(uid) for uid, *_r, member_of in people if group in member_of]
        # groupOfNames needs a member: a placeholder, as directories keep (one may leave).
        members.append(f"cn=placeholder,{BASE}")
        entries.append(
            f"dn: {group_dn(group)}\nobjectClass: groupOfNames\ncn: {group}\n"
            + "\n".join(f"member: {m}" for m in members)
        )
    return "\n\n".join(entries) + "\n"


def _b64(text):
    import base64

    return base64.b64encode(text.encode()).decode()


def _config(folder: Path, port: int) -> str:
    schemas = ["core", "cosine", "inetorgperson", "nis"]
    return "\n".join(
        [*(f"include {SCHEMA / name}.schema" for name in schemas)]
        + [
            f"pidfile {folder / 'slapd.pid'}",
            "modulepath /usr/lib/ldap",
            "moduleload back_mdb",
            "moduleload ppolicy",
            "database mdb",
            f"suffix {BASE}",
            f"rootdn {ADMIN_DN}",
            f"rootpw {ADMIN_PASSWORD}",
            f"directory {folder / 'db'}",
            "maxsize 10485760",
            "overlay ppolicy",
            f"ppolicy_default cn=default,ou=policies,{BASE}",
            "ppolicy_use_lockout",
            "access to attrs=userPassword by anonymous auth by * none",
            "access to * by * read",
            "",
        ]
    )


class Directory:
    """A running slapd: ``url``, and ``admin()`` to change the directory as the campus
    does (lock an account, take someone out of a group)."""

    def __init__(self, extra_people=()):
        self.people = [*PEOPLE, *extra_people]
        self.folder = Path(tempfile.mkdtemp(prefix="libdesk-slapd-"))
        self.port = free_port()
        self.url = f"ldap://127.0.0.1:{self.port}"
        self.process = None

    def start(self):
        (self.folder / "db").mkdir()
        config = self.folder / "slapd.conf"
        config.write_text(_config(self.folder, self.port))
        (self.folder / "directory.ldif").write_text(_ldif(self.people))
        subprocess.run(
            [SLAPD, "-T", "add", "-f", str(config), "-l", str(self.folder / "directory.ldif")],
            check=True,
            capture_output=True,
        )
        self.process = subprocess.Popen(
            [SLAPD, "-d", "0", "-f", str(config), "-h", self.url],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                self.admin().unbind_s()
                return self
            except ldap.SERVER_DOWN:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(
                        "slapd did not start: " + self.process.stderr.read().decode()
                    ) from None
                time.sleep(0.1)

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=20)
        shutil.rmtree(self.folder, ignore_errors=True)

    def admin(self):
        connection = ldap.initialize(self.url)
        connection.simple_bind_s(ADMIN_DN, ADMIN_PASSWORD)
        return connection

    def lock(self, uid):
        """The campus disables an account (the password policy's lock)."""
        connection = self.admin()
        connection.modify_s(
            person_dn(uid), [(ldap.MOD_ADD, "pwdAccountLockedTime", [b"000001010000Z"])]
        )
        connection.unbind_s()

    def set_given_name(self, uid, given):
        connection = self.admin()
        connection.modify_s(person_dn(uid), [(ldap.MOD_REPLACE, "givenName", [given.encode()])])
        connection.unbind_s()

    def add_to_group(self, uid, group):
        connection = self.admin()
        connection.modify_s(group_dn(group), [(ldap.MOD_ADD, "member", [person_dn(uid).encode()])])
        connection.unbind_s()

    def remove_from_group(self, uid, group):
        connection = self.admin()
        connection.modify_s(
            group_dn(group), [(ldap.MOD_DELETE, "member", [person_dn(uid).encode()])]
        )
        connection.unbind_s()
