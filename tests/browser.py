"""A real headless browser for the tests: Debian's chromium, driven over the DevTools
protocol (websocket-client), to look at a page as a user would and list every network
request the page itself made (the browser's own update checks are not the page's).

``ensure_chromium()`` installs the Debian package when it is absent (apt-get, as root).
"""

from __future__ import annotations

import base64
import itertools
import json
import os
import shutil
import subprocess
import tempfile
import time
import urllib.request
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


def visit(url: str, probes: dict[str, str] | None = None, width: int = 1100,
          height: int = 700, settle: float = 1.0, timeout: float = 60) -> Visit:
    """Open ``url`` in headless chromium, wait for its load event (and ``settle`` s more),
    evaluate each JS expression of ``probes``, take a screenshot, and close the browser."""
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
        page = next(t for t in targets if t["type"] == "page")
        ws = websocket.create_connection(page["webSocketDebuggerUrl"], timeout=timeout,
                                         suppress_origin=True)
        ids = itertools.count(1)
        seen = Visit()
        events: list[dict] = []

        def call(method: str, **params):
            n = next(ids)
            ws.send(json.dumps({"id": n, "method": method, "params": params}))
            while True:
                message = json.loads(ws.recv())
                if message.get("id") == n:
                    if "error" in message:
                        raise RuntimeError(f"{method}: {message['error']}")
                    return message.get("result", {})
                events.append(message)

        call("Network.enable")
        call("Page.enable")
        call("Page.navigate", url=url)
        while not any(e.get("method") == "Page.loadEventFired" for e in events):
            events.append(json.loads(ws.recv()))
        end = time.monotonic() + settle
        ws.settimeout(0.2)
        while time.monotonic() < end:
            try:
                events.append(json.loads(ws.recv()))
            except websocket.WebSocketTimeoutException:
                pass
        ws.settimeout(timeout)
        for name, expression in (probes or {}).items():
            result = call("Runtime.evaluate", expression=expression, returnByValue=True)
            seen.values[name] = result.get("result", {}).get("value")
        seen.screenshot = base64.b64decode(call("Page.captureScreenshot", format="png")["data"])
        seen.requests = [e["params"]["request"]["url"] for e in events
                         if e.get("method") == "Network.requestWillBeSent"]
        ws.close()
        return seen
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        shutil.rmtree(profile, ignore_errors=True)


def network_requests(visit_: Visit) -> list[str]:
    """The page's requests that would leave the machine (not file: or data:)."""
    return [u for u in visit_.requests if not u.startswith(("file:", "data:", "about:"))]
