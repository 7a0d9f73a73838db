"""The one call -> parse -> validate -> repair/retry loop that every LLM method uses.

A prompt is sent (with the options' system message, schema and sample count); each answer is parsed
(without structured output: fields are looked for in the free text, then asked for in one follow-up to the
same conversation, which keeps the main prompt as the server's cached prefix), validated against the
answer format and repaired where unambiguous (each change counted by field and amount). Unusable answers
are counted by kind and never become decisions; when none of a prompt's answers is usable, the prompt is
asked again with the first answer and its error (``answer_retries`` times).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from typing import Any

import numpy as np

from offloadlab.llm.backend import Request, structured_report
from offloadlab.llm.client import LLMClient
from offloadlab.llm.formats import AnswerFormat
from offloadlab.llm.options import LLMOptions
from offloadlab.llm.structured import Checked, InvalidAnswer, answer_max_tokens, answer_schema, check_answer, parse_json
from offloadlab.llm.templates import render_common

Messages = tuple[dict[str, str], ...]


class AnswerLoop:
    """Asks for decisions in an answer format and returns only usable ones, with the counts of the rest."""

    def __init__(
        self,
        client: LLMClient,
        options: LLMOptions,
        problem: Any,
        instance: Any,
        fmt: AnswerFormat,
        rng: np.random.Generator,
    ):
        self.client, self.options, self.problem, self.instance = client, options, problem, instance
        self.fmt, self.rng = fmt, rng
        self.structured = options.structured != "off"
        self.schema = answer_schema(fmt.space) if self.structured else None
        self.max_tokens = options.max_tokens or answer_max_tokens(fmt.space)
        self.invalid: Counter = Counter()
        self.repairs: dict[str, dict[str, float]] = {}
        self.repaired = self.retried = self.usable = 0

    def stats(self) -> dict[str, Any]:
        """Answer-quality counts for a solver's stats: invalid by kind, repaired by what was changed (answers,
        values, largest change), the answer status line and the structured-output mode."""
        return {
            "invalid_outputs": sum(self.invalid.values()),
            "invalid_by_kind": dict(sorted(self.invalid.items())),
            "repaired": self.repaired,
            "repairs": {k: dict(v) for k, v in sorted(self.repairs.items())},
            "retried": self.retried,
            "usable_answers": self.usable,
            "answer_status": answer_status(self.usable, self.repaired, sum(self.invalid.values())),
            **self.structured_report(),
        }

    def structured_report(self) -> dict[str, Any]:
        """The structured-output mode the answers came under and whether it enforced the schema."""
        if not self.structured:
            return {"structured_mode": "off", "structured_enforced": False}
        return structured_report(self.client.backend)

    def messages(self, user: str) -> Messages:
        """The user prompt, after the options' system message if any."""
        system = ({"role": "system", "content": self.options.system},) if self.options.system else ()
        return (*system, {"role": "user", "content": user})

    def sample(self, messages: Messages, purpose: str, n: int, schema: dict[str, Any] | None) -> list[str]:
        """``n`` answer texts: one request with n, topped up by further calls when the backend gives fewer."""
        texts: list[str] = []
        while len(texts) < n:
            seed = int(self.rng.integers(2**31 - 1))
            request = Request(
                messages, self.options.temperature, self.max_tokens, schema, seed, purpose, n - len(texts)
            )
            texts += self.client.complete(request).texts[: n - len(texts)]
        return texts

    def parse(self, text: str, messages: Messages = ()) -> Any:
        """The answer's JSON. Without structured output, fields missing from it are first looked for in the
        text itself, then asked for in one follow-up to the same conversation, so that the server's cached
        prefix (the main prompt) is reused rather than evicted by a prompt of its own."""
        if self.structured:
            return parse_json(text)
        try:
            obj = parse_json(text)
        except InvalidAnswer:
            obj = {}
        obj = dict(obj) if isinstance(obj, dict) else {}
        for f in self.fmt.space.fields:
            if f.name not in obj and (found := find_field(text, f.name)) is not None:
                obj[f.name] = found
        missing = [f for f in self.fmt.space.fields if f.name not in obj]
        if missing:
            follow_up = (
                *messages,
                {"role": "assistant", "content": text},
                {"role": "user", "content": render_common("extract", fields=missing)},
            )
            part = parse_json(self.sample(follow_up, "extract", 1, None)[0])
            obj.update({f.name: part.get(f.name) for f in missing} if isinstance(part, dict) else {})
        return obj

    def check(self, text: str, messages: Messages = ()) -> Checked:
        """A usable decision from one answer text (to ``messages``), or InvalidAnswer (counted)."""
        try:
            checked = check_answer(self.problem, self.instance, self.fmt, self.parse(text, messages))
        except InvalidAnswer as exc:
            self.invalid[exc.kind] += 1
            raise
        self.repaired += bool(checked.repairs)
        self.usable += 1
        for r in checked.repairs:
            tally = self.repairs.setdefault(r.what, {"answers": 0, "values": 0, "max_amount": 0.0})
            tally["answers"] += 1
            tally["values"] += r.values
            tally["max_amount"] = max(tally["max_amount"], round(r.amount, 6))
        return checked

    def ask(self, prompt: str | Messages, purpose: str = "generate", samples: int | None = None) -> list[Checked]:
        """Up to ``samples`` (default: the options') usable decisions for one prompt; [] when even the
        re-asks gave none. Raises the client's LLMError / TokenBudgetExhausted."""
        messages = self.messages(prompt) if isinstance(prompt, str) else prompt
        conversation, n = messages, samples or self.options.samples
        for attempt in range(self.options.answer_retries + 1):
            if attempt:
                self.retried += 1
            good: list[Checked] = []
            errors: list[tuple[str, str]] = []
            for text in self.sample(
                conversation, "retry" if attempt else purpose, n if not attempt else 1, self.schema
            ):
                try:
                    good.append(self.check(text, conversation))
                except InvalidAnswer as exc:
                    errors.append((text, str(exc)))
            if good:
                return good
            text, error = errors[0]
            feedback = render_common("retry", error=error, fields=self.fmt.space.fields)
            conversation = (*messages, {"role": "assistant", "content": text}, {"role": "user", "content": feedback})
        return []


def answer_status(usable: int, repaired: int, invalid: int) -> str:
    """One computed line on the answers: how many were usable as written, repaired, or unusable."""
    if usable == 0:
        return f"no usable answer ({invalid} unusable)"
    if repaired == usable:
        head = f"all {usable} usable answers repaired"
    elif repaired:
        head = f"{repaired} of {usable} usable answers repaired"
    else:
        head = f"all {usable} usable answers used as written"
    return f"{head}; {invalid} unusable" if invalid else head


def find_field(text: str, name: str) -> Any:
    """The JSON value written after ``name:`` or ``"name":`` in free text (an array or a number), or None."""
    for match in re.finditer(rf'"?\b{re.escape(name)}\b"?\s*[:=]\s*', text):
        rest = text[match.end() :]
        if rest.startswith("["):
            depth = 0
            for i, ch in enumerate(rest):
                depth += {"[": 1, "]": -1}.get(ch, 0)
                if depth == 0:
                    rest = rest[: i + 1]
                    break
        else:
            number = re.match(r"-?\d+(\.\d+)?([eE][-+]?\d+)?", rest)
            rest = number.group(0) if number else ""
        try:
            return json.loads(rest)
        except json.JSONDecodeError:
            continue
    return None
