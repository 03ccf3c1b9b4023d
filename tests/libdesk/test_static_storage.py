"""Production static files (libdesk.storage.StaticStorage: hashed names, ES module
imports rewritten): after collectstatic every relative import of every module points at
a hashed file that exists, so a page and its extension modules share one instance of a
module (e.g. dashboard.js, common/http.js) and no import is left unhashed."""

import json
import posixpath
import re
from pathlib import Path

import pytest
from django.core.management import call_command

IMPORT = re.compile(r"""(?:\bfrom\s*|\bimport\s*\(?\s*)["'](\.{1,2}/[^"']+)["']""")


@pytest.fixture(scope="module")
def collected(tmp_path_factory, django_db_blocker):
    from django.test import override_settings

    root = tmp_path_factory.mktemp("static")
    storages = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "libdesk.storage.StaticStorage"},
    }
    with override_settings(STATIC_ROOT=str(root), STORAGES=storages):
        call_command("collectstatic", "--noinput", "-v0")
    manifest = json.loads((root / "staticfiles.json").read_text())["paths"]
    return root, manifest


def _imports(path: Path) -> list[str]:
    return IMPORT.findall(path.read_text())


def test_every_module_import_is_rewritten_to_an_existing_hashed_file(collected):
    root, manifest = collected
    hashed_names = set(manifest.values())
    modules = [name for name in manifest if name.endswith(".js") and not name.startswith("admin/")]
    assert "common/http.js" in modules and "dashboard/canned.js" in modules
    checked = 0
    for name in modules:
        hashed = root / manifest[name]
        for specifier in _imports(hashed):
            resolved = (hashed.parent / specifier).resolve().relative_to(root.resolve()).as_posix()
            assert resolved in hashed_names, f"{name} imports {specifier}: not a hashed name"
            assert (root / resolved).exists()
            checked += 1
    assert checked >= 10


def test_the_dashboard_and_its_extensions_share_one_dashboard_module(collected):
    root, manifest = collected
    dashboard = Path(manifest["dashboard/dashboard.js"]).name
    http = Path(manifest["common/http.js"]).name
    for name in ("dashboard/canned.js", "dashboard/transcript.js", "analytics/dashboard.js"):
        specifiers = _imports(root / manifest[name])
        assert any(s.endswith("/" + dashboard) for s in specifiers), (name, specifiers)
        assert any(s.endswith("/" + http) for s in specifiers), (name, specifiers)


def test_the_widget_preloads_exactly_the_modules_its_app_imports():
    """The widget page lists its modules for modulepreload (no import waterfall); the
    list must follow the modules app.js really reaches, or a stale file is preloaded."""
    project = Path(__file__).resolve().parents[2]
    reached, todo = set(), ["widget/app.js"]
    while todo:
        name = todo.pop()
        if name in reached:
            continue
        reached.add(name)
        for specifier in IMPORT.findall((project / "static" / name).read_text()):
            todo.append(posixpath.normpath(posixpath.join(posixpath.dirname(name), specifier)))
    template = (project / "templates/widget/chat.html").read_text()
    preloaded = set(re.findall(r"""rel="modulepreload" href="{% static '([^']+)' %}""", template))
    assert len(reached) > 5 and preloaded == reached
