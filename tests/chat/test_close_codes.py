"""Every close code the sockets send is one Daphne's websocket library (autobahn) lets
an application send: 1000 or 3000-4999. It raises on any other (1011 included), and
the socket then stays open and silent: that was the lone-surrogate bug of issue 15."""

import re
from pathlib import Path

from autobahn.websocket.protocol import WebSocketProtocol

from chat import close_codes

ROOT = Path(__file__).resolve().parents[2]


def sendable(code: int) -> bool:
    return code == 1000 or 3000 <= code <= 4999


def test_the_desk_s_close_codes_are_sendable_and_distinct():
    codes = {name: value for name, value in vars(close_codes).items() if name.startswith("CLOSE_")}
    assert len(codes) >= 5
    assert all(sendable(code) for code in codes.values()), codes
    assert len(set(codes.values())) == len(codes)
    # What autobahn itself accepts from the application, so the rule above is its rule.
    assert WebSocketProtocol.CLOSE_STATUS_CODE_NORMAL == 1000
    assert not sendable(WebSocketProtocol.CLOSE_STATUS_CODE_INTERNAL_ERROR)  # 1011


def test_no_consumer_closes_with_a_literal_code_outside_the_range():
    literal = re.compile(r"close\(\s*code\s*=\s*(\d+)")
    for path in (ROOT / "chat").rglob("*.py"):
        for match in literal.finditer(path.read_text()):
            assert sendable(int(match.group(1))), f"{path.name}: close(code={match.group(1)})"
