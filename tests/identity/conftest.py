import copy

import pytest

from tests.identity.directory import BASE, READER_DN, READER_PASSWORD, Directory
from tests.realworld import hostile_strings


def hostile_people():
    """People whose names are the real-world hostile strings (every 25th of them), in
    one campus group: names a directory may really hold."""
    people = []
    for number, text in enumerate(hostile_strings()[::25]):
        text = text.strip() or "·"
        people.append((f"hostile{number}", text, text, f"hostile-pw-{number}", ["reference-staff"]))
    return people


@pytest.fixture
def directory():
    """A fresh directory for each test (slapd starts in well under a second)."""
    running = Directory(extra_people=hostile_people()).start()
    yield running
    running.stop()


@pytest.fixture
def campus_ldap(settings, directory):
    """The desk configured for the running directory, as .env.example shows it."""
    conf = copy.deepcopy(settings.CAMPUS_SIGN_IN)
    conf["LDAP"].update(
        SERVER_URI=directory.url,
        BIND_DN=READER_DN,
        BIND_PASSWORD=READER_PASSWORD,
        USER_BASE=f"ou=people,{BASE}",
        GROUP_BASE=f"ou=groups,{BASE}",
    )
    settings.CAMPUS_SIGN_IN = conf
    return directory
