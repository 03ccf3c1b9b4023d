"""`make demo HOST=`: another address is allowed and said; loopback changes nothing."""

import subprocess

from deploy import demo_host
from deploy.stack import ROOT


def test_loopback_needs_nothing_more(monkeypatch):
    monkeypatch.delenv("ALLOWED_HOSTS", raising=False)
    assert demo_host.allowed_hosts("127.0.0.1") == "127.0.0.1,localhost,[::1]"
    assert demo_host.urls("127.0.0.1", "8000") == ["http://127.0.0.1:8000/"]


def test_an_address_is_allowed_and_shown(monkeypatch):
    monkeypatch.delenv("ALLOWED_HOSTS", raising=False)
    assert demo_host.allowed_hosts("10.1.2.3").split(",")[-1] == "10.1.2.3"
    assert demo_host.urls("10.1.2.3", "8001") == ["http://10.1.2.3:8001/"]
    assert demo_host.allowed_hosts("fd00::5").endswith(",[fd00::5]")


def test_every_interface_allows_this_machines_names(monkeypatch):
    monkeypatch.delenv("ALLOWED_HOSTS", raising=False)
    names = demo_host.this_machine()
    assert names, "a machine has a name"
    assert demo_host.allowed_hosts("0.0.0.0").split(",")[3:] == names
    assert demo_host.urls("0.0.0.0", "8000") == [f"http://{name}:8000/" for name in names]


def test_make_demo_serves_on_the_host_it_was_given():
    plan = subprocess.run(
        ["make", "-n", "demo", "HOST=10.1.2.3", "PORT=8123"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    ).stdout
    assert "daphne -b 10.1.2.3 -p 8123" in plan
    assert "deploy.demo_host --allowed 10.1.2.3" in plan
