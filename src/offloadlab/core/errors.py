"""Errors that the CLI turns into one clear line and exit code 2."""

from __future__ import annotations


class OffloadlabError(Exception):
    """Base class of the project's user-facing errors."""


class InputError(OffloadlabError, ValueError):
    """Bad input: names the offending field and what is allowed."""

    def __init__(self, field: str, message: str):
        self.field = field
        self.message = message
        super().__init__(f"{field}: {message}")


class UnknownNameError(OffloadlabError, KeyError):
    """An unknown scenario, solver or backend name."""

    def __init__(self, kind: str, name: str, known: list[str]):
        self.kind, self.name, self.known = kind, name, known
        super().__init__(f"unknown {kind} '{name}' (known: {', '.join(sorted(known)) or 'none'})")

    def __str__(self) -> str:  # KeyError would quote the message
        return self.args[0]
