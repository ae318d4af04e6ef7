"""Progress of a batch: a bar on a terminal, one plain line per student otherwise (logs, CI)."""
from __future__ import annotations

import sys
from typing import IO, Any


def describe(record: dict[str, Any]) -> str:
    """One line about a finished student."""
    if record["status"] != "graded":
        return f"{record['student']}: {record['status']} ({record['reason']})"
    why = f"; {record['reason']}" if record["reason"] else ""
    return f"{record['student']}: {record['total']:.2f} / {record['max_total']:g} ({record['seconds']:.1f} s{why})"


class Progress:
    """Counts finished students out of ``total``; writes to ``stream`` (standard error by default)."""

    def __init__(self, total: int, stream: IO[str] | None = None):
        self.total, self.count = total, 0
        self.stream = stream or sys.stderr
        self.bar = None
        if total and self.stream.isatty():
            from tqdm import tqdm

            self.bar = tqdm(total=total, file=self.stream, unit="student", dynamic_ncols=True)

    def done(self, record: dict[str, Any]) -> None:
        self.count += 1
        line = describe(record)
        if self.bar is not None:
            self.bar.write(line, file=self.stream)
            self.bar.update(1)
        else:
            print(f"[{self.count}/{self.total}] {line}", file=self.stream, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
