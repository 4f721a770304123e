"""A live progress line: done / errors / rate / ETA / tokens.

On a terminal it redraws one line in place (at most 10 times a second). Off a terminal (CI, `nohup`, a
log file) it prints a plain line every `log_every` seconds instead, so logs stay readable.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    """Counts finished and failed records of a step and shows them."""

    def __init__(
        self,
        label: str,
        total: int | None = None,
        *,
        stream: TextIO | None = None,
        log_every: float = 30.0,
        enabled: bool = True,
    ) -> None:
        self.label = label
        self.total = total
        self.stream = stream if stream is not None else sys.stderr
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.log_every = log_every
        self.enabled = enabled
        self.done = 0
        self.errors = 0
        self.tokens = 0
        self.start = time.monotonic()
        self._last_draw = 0.0

    def advance(self, *, ok: bool = True, tokens: int = 0) -> None:
        """One more record finished (`ok`) or failed."""
        if ok:
            self.done += 1
        else:
            self.errors += 1
        self.tokens += tokens
        self._maybe_draw()

    def line(self) -> str:
        """The current status as one line of text."""
        elapsed = max(time.monotonic() - self.start, 1e-9)
        finished = self.done + self.errors
        rate = finished / elapsed
        parts = [f"{self.label}: {self.done}" + (f"/{self.total}" if self.total else "") + " done"]
        parts.append(f"{self.errors} errors")
        parts.append(f"{rate:.1f}/s")
        if self.total and rate > 0:
            left = max(self.total - finished, 0) / rate
            parts.append(f"ETA {_clock(left)}")
        parts.append(f"{self.tokens:,} tokens")
        parts.append(f"elapsed {_clock(elapsed)}")
        return " | ".join(parts)

    def _maybe_draw(self, force: bool = False) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if self.tty:
            if force or now - self._last_draw >= 0.1:
                self.stream.write("\r\x1b[2K" + self.line())
                self.stream.flush()
                self._last_draw = now
        elif force or now - self._last_draw >= self.log_every:
            self.stream.write(self.line() + "\n")
            self.stream.flush()
            self._last_draw = now

    def close(self) -> None:
        """Draw the final state (and end the in-place line on a terminal)."""
        if not self.enabled:
            return
        if self.tty:
            self._maybe_draw(force=True)
            self.stream.write("\n")
            self.stream.flush()
        else:
            self._maybe_draw(force=True)


def _clock(seconds: float) -> str:
    s = int(seconds)
    h, rem = divmod(s, 3600)
    m, s = divmod(rem, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"
