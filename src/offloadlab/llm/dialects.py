"""Structured-output dialects of OpenAI-compatible servers: the request fields of each, whether it claims to
enforce the schema, a check of an answer against the schema (to catch a server that accepts the fields but
does not enforce them), and the per-endpoint memory of the mode that works, kept across processes.

- ``json_schema``: ``response_format: {type: json_schema, json_schema: {name, schema, strict}}``
  (OpenAI, llama.cpp's server, vLLM, Ollama >= 0.5);
- ``json_object_schema``: ``response_format: {type: json_object, schema}`` (llama-cpp-python's server);
- ``guided_json``: ``guided_json: schema`` and ``structured_outputs: {json: schema}`` (vLLM, older and newer);
- ``format``: ``format: schema`` (Ollama's native field);
- ``json_object``: ``response_format: {type: json_object}`` (JSON of any shape; most servers);
- ``off``: nothing (every server; the answer is extracted from free text).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

# The order ``auto`` tries: every mode that claims to enforce the schema, then JSON of any shape, then none.
DIALECTS = ("json_schema", "json_object_schema", "guided_json", "format", "json_object", "off")
ENFORCING = frozenset(DIALECTS[:4])
# Answers that must meet the schema before a mode claiming enforcement is believed (and remembered).
VERIFY_ANSWERS = 3
# Bounded integers with at most this many values are also written as an enum: llama-cpp-python's grammar
# ignores minimum/maximum (measured: "target": 821754994 with 3 satellites) but keeps an enum.
ENUM_MAX_VALUES = 256
CACHE_FILE = "llm-structured.json"


def structured_body(dialect: str, schema: dict[str, Any]) -> dict[str, Any]:
    """The keyword arguments of ``chat.completions.create`` that ask for schema-constrained output."""
    if dialect == "json_schema":
        return {
            "response_format": {
                "type": "json_schema",
                "json_schema": {"name": "answer", "schema": schema, "strict": True},
            }
        }
    if dialect == "json_object_schema":
        return {"response_format": {"type": "json_object", "schema": grammar_schema(schema)}}
    if dialect == "guided_json":
        return {"extra_body": {"guided_json": schema, "structured_outputs": {"json": schema}}}
    if dialect == "format":
        return {"extra_body": {"format": schema}}
    if dialect == "json_object":
        return {"response_format": {"type": "json_object"}}
    return {}


def grammar_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """The same schema with each small bounded integer range also written as an enum (what a GBNF grammar
    converter that ignores minimum/maximum still enforces)."""
    out = {k: grammar_schema(v) if isinstance(v, dict) else v for k, v in schema.items()}  # items, properties
    low, high = schema.get("minimum"), schema.get("maximum")
    if schema.get("type") == "integer" and low is not None and high is not None and high - low < ENUM_MAX_VALUES:
        out["enum"] = list(range(int(low), int(high) + 1))
    return out


def schema_break(text: str, schema: dict[str, Any]) -> str | None:
    """Where an answer text breaks the schema (the whole text must be the JSON value), or None."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        return "not JSON"
    return _break(value, schema, "answer")


def _break(value: Any, schema: dict[str, Any], where: str) -> str | None:
    """The first place ``value`` breaks ``schema`` (objects, arrays, bounded numbers, enums)."""
    kind = schema.get("type")
    if kind == "object":
        if not isinstance(value, dict):
            return f"{where} is not an object"
        props = schema.get("properties", {})
        missing = [k for k in schema.get("required", []) if k not in value]
        extra = [k for k in value if k not in props] if schema.get("additionalProperties") is False else []
        if missing or extra:
            return f"{where}: missing {missing}, unexpected {extra}"
        return next(
            (b for k, sub in props.items() if k in value and (b := _break(value[k], sub, f"{where}.{k}"))), None
        )
    if kind == "array":
        if not isinstance(value, list):
            return f"{where} is not an array"
        if not schema.get("minItems", 0) <= len(value) <= schema.get("maxItems", len(value)):
            return f"{where} has {len(value)} items"
        items = schema.get("items", {})
        return next((b for i, v in enumerate(value) if (b := _break(v, items, f"{where}[{i}]"))), None)
    if kind in ("integer", "number"):
        if isinstance(value, bool) or not isinstance(value, int if kind == "integer" else (int, float)):
            return f"{where} is not an {kind}"
        if not schema.get("minimum", value) <= value <= schema.get("maximum", value):
            return f"{where} = {value} is out of [{schema.get('minimum')}, {schema.get('maximum')}]"
    if "enum" in schema and value not in schema["enum"]:
        return f"{where} = {value!r} is not one of the allowed values"
    return None


def endpoint_key(base_url: str, model: str) -> str:
    """The cache key of an endpoint: its URL without credentials, query or fragment, and the model name."""
    parts = urlsplit(base_url)
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return f"{urlunsplit((parts.scheme, netloc, parts.path.rstrip('/'), '', ''))} {model}"


def cache_path() -> Path:
    """The file that remembers each endpoint's mode: under $XDG_CACHE_HOME (default ~/.cache)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "offloadlab" / CACHE_FILE


def load_entry(key: str) -> dict[str, Any] | None:
    """The remembered ``{"mode", "enforced", "identity"}`` of an endpoint, or None (also for an unreadable file)."""
    try:
        entry = json.loads(cache_path().read_text(encoding="utf-8")).get(key)
    except (OSError, ValueError, AttributeError):
        return None
    if not isinstance(entry, dict) or entry.get("mode") not in DIALECTS:
        return None
    return entry


def store_entry(key: str, mode: str, enforced: bool, identity: str) -> None:
    """Remember an endpoint's mode (written atomically; a cache that cannot be written is skipped)."""
    path = cache_path()
    try:
        data = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
        data = data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        data = {}
    data[key] = {"mode": mode, "enforced": enforced, "identity": identity}
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(data, indent=1, sort_keys=True), encoding="utf-8")
        tmp.replace(path)
    except OSError:
        pass


@dataclass
class ModeState:
    """What is known of one endpoint's structured output: the mode in use, where it came from (configured,
    probe, cache), whether its answers met the schema, and the modes left behind with the reason."""

    key: str
    mode: str
    source: str
    enforced: bool | None = None
    identity: str | None = None
    conforming: int = 0
    rejected: dict[str, str] = field(default_factory=dict)
    not_enforcing: dict[str, str] = field(default_factory=dict)

    @classmethod
    def start(cls, key: str, structured: str) -> ModeState:
        """The configured mode, or for auto the remembered one, else the first of the order."""
        if structured != "auto":
            return cls(key, structured, "configured")
        entry = load_entry(key)
        if entry is None:
            return cls(key, DIALECTS[0], "probe")
        return cls(key, entry["mode"], "cache", entry.get("enforced") is True, str(entry.get("identity", "")))

    def report(self) -> dict[str, Any]:
        """The stats block: mode used, whether it enforced the schema (None: too few answers to tell)."""
        out: dict[str, Any] = {
            "structured_mode": self.mode,
            "structured_enforced": self.enforced,
            "structured_source": self.source,
        }
        if self.rejected:
            out["structured_rejected"] = dict(self.rejected)
        if self.not_enforcing:
            out["structured_not_enforcing"] = dict(self.not_enforcing)
        return out

    def reject(self, reason: str) -> None:
        """The server refused the mode's request fields: go on to the next mode."""
        self.rejected[self.mode] = reason
        self._advance()

    def observe(self, texts: list[str], schema: dict[str, Any], truncated: bool, identity: str) -> None:
        """Check a reply's answers against the schema under a mode that claims enforcement; a break marks
        the mode not enforcing (auto moves on), enough conforming answers confirm it (auto remembers it)."""
        if self.source == "cache" and identity != self.identity:  # another server behind the same address
            self.source, self.enforced, self.conforming = "probe", None, 0
        self.identity = identity
        if self.mode not in ENFORCING:
            if self.enforced is None:
                self.enforced = False
                self._remember()
            return
        if truncated:  # cut at the token cap: says nothing about enforcement
            return
        for text in texts:
            broken = schema_break(text, schema)
            if broken is not None:
                self.not_enforcing.setdefault(self.mode, broken)
                if self.source == "configured":
                    self.enforced = False
                else:
                    self._advance()
                return
            self.conforming += 1
        if self.enforced is None and self.conforming >= VERIFY_ANSWERS:
            self.enforced = True
            self._remember()

    def _advance(self) -> None:
        self.mode = DIALECTS[DIALECTS.index(self.mode) + 1]  # 'off' is never rejected nor checked
        self.source, self.enforced, self.conforming = "probe", None, 0

    def _remember(self) -> None:
        if self.source == "probe":
            store_entry(self.key, self.mode, bool(self.enforced), self.identity or "")
