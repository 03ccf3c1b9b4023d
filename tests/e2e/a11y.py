"""axe-core audits (the copy shipped inside axe-playwright-python; nothing downloaded)."""

from axe_playwright_python.sync_playwright import Axe

WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
_axe = Axe()


def violations(page_or_frame) -> list[dict]:
    options = {"runOnly": {"type": "tag", "values": WCAG_TAGS}, "resultTypes": ["violations"]}
    return _axe.run(page_or_frame, options=options).response["violations"]


def assert_accessible(page_or_frame, state: str) -> None:
    """Zero WCAG 2.2 A/AA violations in ``state`` (the message names each one)."""
    found = violations(page_or_frame)
    summary = "; ".join(
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
        for v in found
    )
    assert not found, f"{state}: {summary}"
