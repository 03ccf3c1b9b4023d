"""How other apps add to the dashboard without chat importing them.

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
