"""How other apps add to the dashboard (and to the retention job) without chat
importing them.

``tickets`` and ``analytics`` call ``register_dashboard_module`` in their
``AppConfig.ready()``; the dashboard page loads each module (an ES module under
static/) after its own. A module talks to the dashboard through the ``desk`` object
exported by static/dashboard/dashboard.js and the DOM events it dispatches
(documented in docs/protocol.md, "Dashboard extension points").
"""

_dashboard_modules: list[str] = []


def register_dashboard_module(static_path: str) -> None:
    """``static_path`` as for ``{% static %}``, e.g. ``"tickets/dashboard.js"``."""
    if static_path not in _dashboard_modules:
        _dashboard_modules.append(static_path)


def dashboard_modules() -> list[str]:
    return list(_dashboard_modules)


# --- Retention ----------------------------------------------------------------------------
# ``tickets`` and ``analytics`` keep patron data of their own. They register a step in
# ``AppConfig.ready()``; the chat desk's one retention job (Celery beat
# ``chat.tasks.apply_retention``, ``manage.py apply_retention``) runs every step.

_retention_steps: dict[str, object] = {}


def register_retention(name: str, apply) -> None:
    """``apply(now=...)`` applies that app's retention periods and returns what it did
    (a dict of counts); it must be idempotent."""
    _retention_steps[name] = apply


def retention_steps() -> dict:
    return dict(_retention_steps)
