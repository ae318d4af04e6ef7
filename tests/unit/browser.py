"""A real headless browser for the tests: Debian's ``chromium``, driven over the DevTools protocol on a pipe.

No driver library: chromium reads commands on fd 3 and writes replies and events on fd 4
(``--remote-debugging-pipe``), one JSON message per NUL-terminated chunk.
"""
from __future__ import annotations

import base64
import fcntl
import json
import os
import select
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BROWSERS = ("chromium", "chromium-browser", "google-chrome")


def find_browser() -> str | None:
    return next((path for path in map(shutil.which, BROWSERS) if path), None)


@dataclass
class PageLoad:
    """What happened while a page loaded."""

    requests: list[str] = field(default_factory=list)  # every URL the page asked for
    errors: list[str] = field(default_factory=list)  # exceptions, console errors, log errors (CSP violations)
    figures: list[dict[str, float]] = field(default_factory=list)  # each <img>'s box and natural width
    screenshots: list[bytes] = field(default_factory=list)  # PNG of each figure's box


class _Pipe:
    def __init__(self, proc: subprocess.Popen, commands: int, replies: int, deadline: float):
        self.proc, self.commands, self.replies, self.deadline = proc, commands, replies, deadline
        self.buffer = b""
        self.ids = 0
        self.events: list[dict[str, Any]] = []

    def _message(self) -> dict[str, Any]:
        while b"\0" not in self.buffer:
            left = self.deadline - time.monotonic()
            if left <= 0 or not select.select([self.replies], [], [], left)[0]:
                raise TimeoutError("the browser did not answer in time")
            chunk = os.read(self.replies, 1 << 20)
            if not chunk:
                raise RuntimeError(f"the browser exited ({self.proc.poll()})")
            self.buffer += chunk
        raw, _, self.buffer = self.buffer.partition(b"\0")
        return json.loads(raw)

    def send(self, method: str, session: str | None = None, **params: Any) -> dict[str, Any]:
        self.ids += 1
        message = {"id": self.ids, "method": method, "params": params, **({"sessionId": session} if session else {})}
        os.write(self.commands, json.dumps(message).encode() + b"\0")
        while True:
            got = self._message()
            if got.get("id") == self.ids:
                if "error" in got:
                    raise RuntimeError(f"{method}: {got['error']}")
                return got.get("result", {})
            self.events.append(got)

    def wait_for(self, method: str) -> None:
        while not any(e.get("method") == method for e in self.events):
            self.events.append(self._message())


def _above_nine(fd: int) -> int:
    moved = fcntl.fcntl(fd, fcntl.F_DUPFD, 10)
    os.close(fd)
    return moved


def load(browser: str, page: Path, timeout: float = 90.0) -> PageLoad:
    """Open ``page`` in a fresh headless ``browser``; return its requests, errors, figures and their screenshots."""
    commands_read, commands_write = os.pipe()
    replies_read, replies_write = os.pipe()
    # the browser reads our commands on fd 3 and writes its replies on fd 4: a shell puts its pipe ends
    # (bash: it takes fds above 9), moved above 9 first so that neither is already 3 or 4
    commands_read, replies_write = (_above_nine(fd) for fd in (commands_read, replies_write))
    profile = tempfile.mkdtemp(prefix="gradekit-browser-")

    plumb = f'exec "$0" "$@" 3<&{commands_read} 4>&{replies_write} {commands_read}<&- {replies_write}>&-'
    command = ["bash", "-c", plumb, browser, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run", "--no-default-browser-check",
               "--remote-debugging-pipe", f"--user-data-dir={profile}", "--window-size=1200,2400", "about:blank"]
    proc = subprocess.Popen(command, pass_fds=(commands_read, replies_write), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    os.close(commands_read)
    os.close(replies_write)
    found = PageLoad()
    try:
        pipe = _Pipe(proc, commands_write, replies_read, time.monotonic() + timeout)
        target = next(t for t in pipe.send("Target.getTargets")["targetInfos"] if t["type"] == "page")
        session = pipe.send("Target.attachToTarget", targetId=target["targetId"], flatten=True)["sessionId"]
        for domain in ("Network", "Runtime", "Log", "Page"):
            pipe.send(f"{domain}.enable", session)
        pipe.send("Page.navigate", session, url=page.absolute().as_uri())
        pipe.wait_for("Page.loadEventFired")
        boxes = pipe.send("Runtime.evaluate", session, returnByValue=True, expression=(
            "JSON.stringify([...document.images].map(i => { const r = i.getBoundingClientRect();"
            " return {x: r.x + scrollX, y: r.y + scrollY, width: r.width, height: r.height,"
            " natural: i.naturalWidth}; }))"))
        found.figures = json.loads(boxes["result"]["value"])
        for box in found.figures:
            clip = {k: box[k] for k in ("x", "y", "width", "height")} | {"scale": 1}
            shot = pipe.send("Page.captureScreenshot", session, format="png", clip=clip, captureBeyondViewport=True)
            found.screenshots.append(base64.b64decode(shot["data"]))
        for event in pipe.events:
            method, params = event.get("method"), event.get("params", {})
            if method == "Network.requestWillBeSent":
                found.requests.append(params["request"]["url"])
            elif method == "Runtime.exceptionThrown":
                found.errors.append(params["exceptionDetails"].get("text", "exception"))
            elif method == "Runtime.consoleAPICalled" and params.get("type") == "error":
                found.errors.append(" ".join(str(a.get("value")) for a in params.get("args", [])))
            elif method == "Log.entryAdded" and params["entry"].get("level") == "error":
                found.errors.append(params["entry"].get("text", ""))
    finally:
        os.close(commands_write)
        os.close(replies_read)
        proc.kill()
        proc.wait()
        shutil.rmtree(profile, ignore_errors=True)
    return found
