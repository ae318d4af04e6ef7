"""Test helpers for data_fetch: the shared real-data folder and a local, fault-injecting mirror.

``FaultServer`` serves a folder over HTTP on 127.0.0.1 (an ephemeral port, in a thread), laid
out as a data_fetch mirror, and can break chosen paths for a number of requests: answer with
a status code, drop the connection mid-body (with or without a Content-Length header), send
corrupted bytes, or send slowly. It records every request path.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
#: Real dataset copies (never copied into the repository); override with $GRADEKIT_SHARED_DATA.
SHARED_DATA = Path(os.environ.get("GRADEKIT_SHARED_DATA", REPO.parent / "shared" / "data"))


def require_shared(*paths: str) -> Path:
    """Return SHARED_DATA, or skip the test naming what is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real data folder {SHARED_DATA} is absent (set GRADEKIT_SHARED_DATA)")
    missing = [p for p in paths if not (SHARED_DATA / p).is_file()]
    if missing:
        pytest.skip(f"real data file(s) absent from {SHARED_DATA}: {', '.join(missing)}")
    return SHARED_DATA


@pytest.fixture
def isolated_cache(tmp_path, monkeypatch):
    """An empty cache folder in $GRADEKIT_DATA_DIR, no mirror, one quick retry."""
    from data_fetch.registry import REGISTRY

    cache = tmp_path / "cache"
    monkeypatch.setenv("GRADEKIT_DATA_DIR", str(cache))
    monkeypatch.delenv("GRADEKIT_DATA_MIRROR", raising=False)
    monkeypatch.setattr(REGISTRY, "retry_if_failed", 1)
    return cache


@dataclass
class Fault:
    """How to break one path: ``kind`` in status/drop/corrupt/slow, for ``times`` requests."""

    kind: str
    times: int = 1_000_000
    status: int = 503
    with_length: bool = True
    fraction: float = 0.5
    chunk: int = 16_384
    delay: float = 0.05


class FaultServer:
    """A threaded HTTP server over *root*; use as a context manager; ``url`` is its base."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.faults: dict[str, Fault] = {}
        self.requests: list[str] = []
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                server._serve(self)

            def log_message(self, *args) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    def __enter__(self) -> FaultServer:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def count(self, path: str) -> int:
        """How many GET requests *path* (a registry path) received."""
        with self._lock:
            return self.requests.count(path)

    def _take_fault(self, path: str) -> Fault | None:
        with self._lock:
            self.requests.append(path)
            fault = self.faults.get(path)
            if fault is None or fault.times <= 0:
                return None
            fault.times -= 1
            return fault

    def _serve(self, handler: BaseHTTPRequestHandler) -> None:
        path = handler.path.lstrip("/").split("?")[0]
        fault = self._take_fault(path)
        file = (self.root / path).resolve()
        if not file.is_relative_to(self.root.resolve()) or not file.is_file():
            handler.send_error(404, "File not found")
            return
        if fault is not None and fault.kind == "status":
            handler.send_error(fault.status, "Injected failure")
            return
        body = file.read_bytes()
        if fault is not None and fault.kind == "corrupt":
            body = bytes([body[0] ^ 0xFF]) + body[1:]
        handler.send_response(200)
        handler.send_header("Content-Type", "application/octet-stream")
        if fault is None or fault.kind != "drop" or fault.with_length:
            handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        try:
            if fault is not None and fault.kind == "drop":
                handler.wfile.write(body[: int(len(body) * fault.fraction)])
                handler.wfile.flush()
                handler.close_connection = True
            elif fault is not None and fault.kind == "slow":
                for start in range(0, len(body), fault.chunk):
                    handler.wfile.write(body[start : start + fault.chunk])
                    handler.wfile.flush()
                    time.sleep(fault.delay)
            else:
                handler.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass


@pytest.fixture
def mirror():
    """A FaultServer over the shared real-data folder (skips if the folder is absent)."""
    root = require_shared()
    with FaultServer(root) as server:
        yield server
