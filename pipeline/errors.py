"""One error hierarchy for the whole pipeline; the CLI turns these into one-line messages."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class TracejoinError(Exception):
    """Base of every expected failure. ``fix`` tells the user what to do about it."""

    def __init__(self, problem: str, fix: str = "") -> None:
        super().__init__(problem)
        self.problem = problem
        self.fix = fix

    def one_line(self) -> str:
        return f"{self.problem} — {self.fix}" if self.fix else self.problem


class ConfigError(TracejoinError):
    """A bad option or config value."""

    def __init__(self, problem: str, fix: str = "", *, path: str | None = None, key: str | None = None):
        super().__init__(problem, fix)
        self.path = path
        self.key = key


class InputError(TracejoinError):
    """An input path or file that cannot be used (missing, unreadable, undetectable format)."""

    def __init__(self, problem: str, fix: str = "", *, path: str | None = None):
        super().__init__(problem, fix)
        self.path = path


class OutputError(TracejoinError):
    """The output directory is missing or incomplete for the command asked."""


def did_you_mean(name: str, choices: Iterable[str], otherwise: str) -> str:
    """The fix for an unknown name: the closest known one, else ``otherwise``."""
    close = difflib.get_close_matches(name, sorted(choices), n=1)
    return f"did you mean {close[0]!r}?" if close else otherwise
