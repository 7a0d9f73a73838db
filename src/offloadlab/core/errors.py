"""Errors that the CLI turns into one clear line and exit code 2."""

from __future__ import annotations

import os
import re
from typing import Any

MAX_FIELD = 120  # characters of a field name in an error line (an unknown key may be any text)
MAX_MESSAGE = 600  # characters of an error message: echoed values are cut, the line stays readable
EXCERPT = 60  # characters of an echoed value
MASK = "***"
# Environment variables whose values are secrets wherever they show up in a message.
SECRET_ENV = re.compile(r"KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL", re.IGNORECASE)
MIN_SECRET = 6  # shorter values would mask ordinary words
_secrets: set[str] = set()


def cut(text: str, limit: int) -> str:
    """``text`` at most ``limit`` characters, saying how much was cut."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}... ({len(text) - limit} more characters)"


def excerpt(value: Any, limit: int = EXCERPT) -> str:
    """The repr of a value echoed in an error, cut to ``limit`` characters (a 1 MB string stays a few words)."""
    if isinstance(value, (list, tuple, dict, set)) and len(value) > limit:
        return f"a {type(value).__name__} of {len(value)} entries"
    return cut(mask_secrets(repr(value)), limit)


def remember_secret(value: str | None) -> None:
    """Mask ``value`` (e.g. an API key read from the environment) in every message from now on."""
    if value and len(value) >= MIN_SECRET:
        _secrets.add(value)


def mask_secrets(text: str) -> str:
    """``text`` with every remembered secret, and the value of every secret-named environment variable
    (``*KEY*``, ``*TOKEN*``, ...), replaced by ***: a server error that echoes the API key never shows it."""
    secrets = _secrets | {v for k, v in os.environ.items() if SECRET_ENV.search(k) and len(v) >= MIN_SECRET}
    for secret in sorted(secrets, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, MASK)
    return text


class OffloadlabError(Exception):
    """Base class of the project's user-facing errors."""


class InputError(OffloadlabError, ValueError):
    """Bad input: names the offending field and what is allowed."""

    def __init__(self, field: str, message: str):
        # secrets masked before cutting, so that no prefix of one survives the cut
        self.field = cut(mask_secrets(field), MAX_FIELD)
        self.message = cut(mask_secrets(message), MAX_MESSAGE)
        super().__init__(f"{self.field}: {self.message}")


class UnknownNameError(OffloadlabError, KeyError):
    """An unknown scenario, solver or backend name."""

    def __init__(self, kind: str, name: str, known: list[str]):
        self.kind, self.name, self.known = kind, cut(str(name), MAX_FIELD), known
        super().__init__(f"unknown {kind} '{self.name}' (known: {', '.join(sorted(known)) or 'none'})")

    def __str__(self) -> str:  # KeyError would quote the message
        return self.args[0]
