"""A real headless browser for the tests: Debian's chromium, driven over the DevTools
protocol (websocket-client), to look at a page as a user would and list every network
request the page itself made (the browser's own update checks are not the page's).

``ensure_chromium()`` installs the Debian package when it is absent (apt-get, as root).
"""

from __future__ import annotations

import base64
import contextlib
import itertools
import json
import os
import shutil
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--no-first-run", "--remote-debugging-port=0"]


def ensure_chromium() -> str:
    """The chromium binary, installed from Debian's packages if it is not there yet."""
    found = shutil.which("chromium")
    if found:
        return found
    if os.geteuid() != 0:
        raise RuntimeError("chromium is not installed and installing it needs root: "
                           "apt-get install chromium")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run(["apt-get", "install", "-y", "-qq", "chromium"], check=True, env=env)
    return shutil.which("chromium") or "chromium"


@dataclass
class Visit:
    """What the browser saw of one page."""

    requests: list[str] = field(default_factory=list)  # every URL the page asked for
    screenshot: bytes = b""  # PNG of the viewport
    values: dict[str, object] = field(default_factory=dict)  # results of the JS probes


class Page:
    """One tab of a running chromium, driven over DevTools; every event is kept."""

    def __init__(self, ws, timeout: float):
        self.ws, self.timeout, self.events = ws, timeout, []
        self._ids = itertools.count(1)

    def call(self, method: str, **params) -> dict:
        n = next(self._ids)
        self.ws.send(json.dumps({"id": n, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv())
            if message.get("id") == n:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})
            self.events.append(message)

    def drain(self, seconds: float) -> None:
        """Keep the events that arrive within ``seconds``."""
        import websocket

        end = time.monotonic() + seconds
        self.ws.settimeout(0.2)
        while time.monotonic() < end:
            try:
                self.events.append(json.loads(self.ws.recv()))
            except websocket.WebSocketTimeoutException:
                pass
        self.ws.settimeout(self.timeout)

    def navigate(self, url: str) -> None:
        """Open ``url`` and wait for its load event."""
        self.call("Network.enable")
        self.call("Page.enable")
        self.call("Page.navigate", url=url)
        while not any(e.get("method") == "Page.loadEventFired" for e in self.events):
            self.events.append(json.loads(self.ws.recv()))

    def evaluate(self, expression: str):
        """The value of a JS expression (awaited if it is a promise)."""
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True,
                           awaitPromise=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression}: {result['exceptionDetails']}")
        return result.get("result", {}).get("value")

    def wait_for(self, expression: str, timeout: float = 60):
        """The first truthy value of a JS expression, polled; fails after ``timeout`` s."""
        deadline = time.monotonic() + timeout
        while True:
            value = self.evaluate(expression)
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f"still false after {timeout} s: {expression}")
            self.drain(0.3)

    def click(self, selector: str) -> None:
        """A real mouse click (DevTools input) at the middle of the first element matching
        ``selector``, as a person's click reaches the page (pointer events included)."""
        x, y = self.evaluate(
            f"(() => {{ const r = document.querySelector({json.dumps(selector)})"
            ".getBoundingClientRect(); return [r.x + r.width / 2, r.y + r.height / 2]; })()")
        for kind in ("mouseMoved", "mousePressed", "mouseReleased"):
            self.call("Input.dispatchMouseEvent", type=kind, x=x, y=y, button="left", clickCount=1)

    def screenshot(self) -> bytes:
        return base64.b64decode(self.call("Page.captureScreenshot", format="png")["data"])

    @property
    def requests(self) -> list[str]:
        """Every URL the page asked for so far."""
        return [e["params"]["request"]["url"] for e in self.events
                if e.get("method") == "Network.requestWillBeSent"]


@contextlib.contextmanager
def devtools(width: int = 1100, height: int = 700, timeout: float = 60) -> Iterator[Page]:
    """A headless chromium with one blank tab, closed on exit."""
    import websocket

    profile = tempfile.mkdtemp(prefix="nbprod-chromium-")
    proc = subprocess.Popen(
        [ensure_chromium(), *FLAGS, f"--user-data-dir={profile}", f"--window-size={width},{height}",
         "about:blank"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        port_file = Path(profile) / "DevToolsActivePort"
        deadline = time.monotonic() + timeout
        while not (port_file.is_file() and port_file.read_text().strip()):
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError("chromium did not start its DevTools endpoint")
            time.sleep(0.1)
        port = int(port_file.read_text().split()[0])
        targets = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list"))
        target = next(t for t in targets if t["type"] == "page")
        ws = websocket.create_connection(target["webSocketDebuggerUrl"], timeout=timeout,
                                         suppress_origin=True)
        try:
            yield Page(ws, timeout)
        finally:
            ws.close()
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        shutil.rmtree(profile, ignore_errors=True)


def visit(url: str, probes: dict[str, str] | None = None, width: int = 1100,
          height: int = 700, settle: float = 1.0, timeout: float = 60) -> Visit:
    """Open ``url`` in headless chromium, wait for its load event (and ``settle`` s more),
    evaluate each JS expression of ``probes``, take a screenshot, and close the browser."""
    with devtools(width, height, timeout) as page:
        page.navigate(url)
        page.drain(settle)
        seen = Visit()
        for name, expression in (probes or {}).items():
            result = page.call("Runtime.evaluate", expression=expression, returnByValue=True)
            seen.values[name] = result.get("result", {}).get("value")
        seen.screenshot = page.screenshot()
        seen.requests = page.requests
        return seen


def network_requests(visit_: Visit) -> list[str]:
    """The page's requests that would leave the machine (not file: or data:)."""
    return [u for u in visit_.requests if not u.startswith(("file:", "data:", "about:"))]
