"""The one call -> parse -> validate -> repair/retry loop that every LLM method uses.

A prompt is sent (with the options' system message, schema and sample count); each answer is parsed
(without structured output: through one extraction prompt per field when the answer is not already the
JSON object), validated against the answer format and repaired where unambiguous. Unusable answers are
counted by kind and never become decisions; when none of a prompt's answers is usable, the prompt is
asked again with the first answer and its error (``answer_retries`` times).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np

from offloadlab.llm.backend import Request
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
        self.repaired = self.retried = self.usable = 0

    def stats(self) -> dict[str, Any]:
        """Answer-quality counts for a solver's stats."""
        return {
            "invalid_outputs": sum(self.invalid.values()),
            "invalid_by_kind": dict(sorted(self.invalid.items())),
            "repaired": self.repaired,
            "retried": self.retried,
            "usable_answers": self.usable,
        }

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

    def parse(self, text: str) -> Any:
        """The answer's JSON; without structured output, extraction prompts pull out each missing field."""
        if self.structured:
            return parse_json(text)
        try:
            obj = parse_json(text)
        except InvalidAnswer:
            obj = {}
        if not isinstance(obj, dict):
            obj = {}
        for f in self.fmt.space.fields:
            if f.name in obj:
                continue
            prompt = render_common("extract", field=f, text=text)
            part = parse_json(self.sample(self.messages(prompt), "extract", 1, None)[0])
            obj[f.name] = part.get(f.name) if isinstance(part, dict) else None
        return obj

    def check(self, text: str) -> Checked:
        """A usable decision from one answer text, or InvalidAnswer (counted)."""
        try:
            checked = check_answer(self.problem, self.instance, self.fmt, self.parse(text))
        except InvalidAnswer as exc:
            self.invalid[exc.kind] += 1
            raise
        self.repaired += bool(checked.repairs)
        self.usable += 1
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
                    good.append(self.check(text))
                except InvalidAnswer as exc:
                    errors.append((text, str(exc)))
            if good:
                return good
            text, error = errors[0]
            feedback = render_common("retry", error=error, fields=self.fmt.space.fields)
            conversation = (*messages, {"role": "assistant", "content": text}, {"role": "user", "content": feedback})
        return []
