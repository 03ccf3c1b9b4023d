"""What the widget and the dashboard do on the wire, for the scale-out tests: log in,
start a chat, and sockets that record every frame they receive."""

import asyncio
import http.cookiejar
import json
import re
import time
import urllib.error
import urllib.parse
import urllib.request

from websockets.asyncio.client import connect

TIMEOUT = 20.0  # generous: the machine may be busy; a passing test never waits this long


def login_cookie(url, username, password) -> str:
    """Log in through /accounts/login/ (CSRF and all); the Cookie header of the session."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    with opener.open(f"{url}/accounts/login/", timeout=TIMEOUT) as response:
        page = response.read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    data = urllib.parse.urlencode(
        {"username": username, "password": password, "csrfmiddlewaretoken": token}
    ).encode()
    request = urllib.request.Request(
        f"{url}/accounts/login/",
        data=data,
        headers={"Origin": url, "Referer": f"{url}/accounts/login/"},
    )
    with opener.open(request, timeout=TIMEOUT) as response:
        response.read()
    cookies = {c.name: c.value for c in jar}
    assert "sessionid" in cookies, f"login failed for {username}"
    return "; ".join(f"{k}={v}" for k, v in cookies.items())


def start_chat(url, department, question, client_id) -> dict:
    """POST /widget/<department>/chats, retried while the desk says nobody is online yet
    (the operator's presence reaches every process through the channel layer)."""
    body = json.dumps({"question": question, "name": "Pat", "client_id": client_id}).encode()
    deadline = time.monotonic() + TIMEOUT
    while True:
        request = urllib.request.Request(
            f"{url}/widget/{department}/chats",
            data=body,
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as error:
            if error.code != 409 or time.monotonic() > deadline:
                raise
        time.sleep(0.1)


class Socket:
    """A websocket to one desk process; ``frames`` is everything it received, in order."""

    def __init__(self, ws):
        self.ws = ws
        self.frames: list[dict] = []
        self._changed = asyncio.Event()
        self._reader = asyncio.get_running_loop().create_task(self._read())
        self.closed = asyncio.Event()

    @classmethod
    async def open(cls, url, path, cookie=None):
        ws_url = url.replace("http://", "ws://") + path
        headers = {"Cookie": cookie} if cookie else None
        ws = await connect(ws_url, origin=url, additional_headers=headers, open_timeout=TIMEOUT)
        return cls(ws)

    async def _read(self):
        try:
            async for raw in self.ws:
                self.frames.append(json.loads(raw))
                self._changed.set()
        except Exception:  # noqa: BLE001 - a dead server: the socket is closed
            pass
        finally:
            self.closed.set()
            self._changed.set()

    async def send(self, **frame):
        await self.ws.send(json.dumps(frame))

    async def wait_for(self, predicate, timeout=TIMEOUT, after=0) -> dict:
        """The first frame received (so far or from now on; from index ``after`` of
        ``frames``) that ``predicate`` accepts."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            for frame in self.frames[after:]:
                if predicate(frame):
                    return frame
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0 or self.closed.is_set():
                kinds = [f.get("type") for f in self.frames[-10:]]
                raise AssertionError(f"no such frame (closed={self.closed.is_set()}; last {kinds})")
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), remaining)
            except TimeoutError:
                pass

    def messages(self) -> list[dict]:
        """Every message this socket received: history (welcome, chat.opened) and live."""
        out = []
        for frame in self.frames:
            if frame.get("type") == "message.new":
                out.append(frame["message"])
            elif frame.get("type") in ("welcome", "chat.opened"):
                out.extend(frame["messages"])
        return out

    def has_message(self, client_id) -> bool:
        return any(m["client_id"] == client_id for m in self.messages())

    async def close(self):
        self._reader.cancel()
        try:
            await asyncio.wait_for(self.ws.close(), 3)
        except Exception:  # noqa: BLE001
            pass


def acked(client_id):
    return lambda f: f.get("type") == "message.ack" and f.get("client_id") == client_id


def of_type(kind):
    return lambda f: f.get("type") == kind


def floor_seq(messages) -> int:
    """The last seq below which every message is present: where a client resumes."""
    have = {m["seq"] for m in messages}
    seq = 0
    while seq + 1 in have:
        seq += 1
    return seq
