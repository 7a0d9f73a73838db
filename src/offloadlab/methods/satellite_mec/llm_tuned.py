"""``llm-tuned``: the seed-000 optimizer loop with a fine-tuned proposer (an extension, not the paper's ``llm``).

The loop is Algorithm 1 as ``llm`` runs it (``solvers.llm_opro.optimize``: the pool from random draws and
all-local, validation, scoring by the problem's evaluate, the pool's update, patience); only the answer to
each meta-prompt comes from elsewhere: the embedded SmolLM2 with the LoRA adapter that ``offloadlab train
satellite-mec`` fits to `reference`'s decisions writes a decision terminal by terminal, one digit per
question (``scenarios.satellite_mec.compact``: the target, then the sub-channel that carries the whole power
budget), each digit sampled at the options' temperature among the valid ones. The first proposal is written
whole; every later one is the pool's best decision with ``rewrite`` terminals (drawn at random) written again
by the model, each after the best's earlier terminals, as the expert prompt asks ("change the best solution
in one or two terminals"). The proposer reads the pool directly, not the meta-prompt's text. The answer goes
through the loop's checks as written JSON in the ``expert`` wording's format, so acceptance and accounting
are those of ``llm``; each proposal is one LLM call in the counts (its questions' tokens summed)"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import Field

from offloadlab.core.config import parse_model
from offloadlab.core.errors import InputError
from offloadlab.core.registry import Smoke, register_solver
from offloadlab.core.result import Result
from offloadlab.core.trainers import default_train_dir
from offloadlab.llm import LLMOptions, Reply, Request, llm_method
from offloadlab.llm.embedded import DEFAULT_MODEL, EmbeddedBackend
from offloadlab.llm.finetune.adapters import ADAPTER_FILE
from offloadlab.llm.finetune.adapters import find_adapter as trained_adapter_file
from offloadlab.llm.formats import AnswerFormat
from offloadlab.llm.templates import PromptBook
from offloadlab.scenarios.satellite_mec.compact import (
    Choice,
    Question,
    check_size,
    choices_of,
    compact_table,
    decision_of,
    question_messages,
    valid_answers,
)
from offloadlab.scenarios.satellite_mec.model import SCENARIO_ID, SatMecInstance
from offloadlab.solvers.llm_opro import (
    ExamplePool,
    InitialSamples,
    Iterations,
    Optimizer,
    Patience,
    PoolSize,
    PoolStart,
    Settings,
    optimize,
)

SHIPPED_ADAPTERS = Path(__file__).parent / "adapters"
SHIPPED_ADAPTER = SHIPPED_ADAPTERS / "llm-tuned.gguf"
WORDING = "expert"  # the answer format the proposals are written in (target + power_mw per terminal)
HINT = "train it with `offloadlab train satellite-mec --method sft` or give --adapter PATH"
Rewrite = Annotated[
    int, Field(ge=1, le=1000, description="terminals written again per proposal after the first (from the pool's best)")
]
Digits = Annotated[
    Literal["model", "uniform"],
    Field(description="model: the tuned model writes the digits; uniform: drawn uniformly (a control, no model)"),
]
Adapter = Annotated[
    str | None,
    Field(description="LoRA adapter GGUF (default: train/satellite-mec/sft/adapter.gguf, else the shipped one)"),
]


def find_adapter(adapter: str | None) -> tuple[Path, dict[str, Any]]:
    """The adapter to load and its training summary: ``adapter``, else the one ``offloadlab train`` wrote under
    the default train dir, else the shipped one. Missing, not GGUF, or without a summary: one InputError."""
    local = default_train_dir(SCENARIO_ID) / "sft" / ADAPTER_FILE
    return trained_adapter_file(adapter, local, SHIPPED_ADAPTER, "llm-tuned", HINT)


class TunedProposer:
    """A backend that answers every meta-prompt with decisions written digit by digit by the tuned model
    (``adapter`` None: each digit drawn uniformly among the valid ones, the control of the model's share)."""

    name = "embedded"

    def __init__(
        self, instance: SatMecInstance, fmt: AnswerFormat, adapter: Path | None, threads: int | None, rewrite: int = 2
    ):
        check_size(instance)
        self.instance, self.fmt = instance, fmt
        self.table = compact_table(instance)
        self.model = f"{DEFAULT_MODEL}+{adapter.name}" if adapter else "uniform digits"
        self.ask_backend = {
            q: EmbeddedBackend(
                DEFAULT_MODEL, threads, {"lora_path": str(adapter), "guided_choice": valid_answers(instance, q)}
            )
            for q in ("target", "channel")
            if adapter
        }
        self.rewrite = rewrite
        self.pool: ExamplePool | None = None
        self.questions = self.prompt_tokens = self.completion_tokens = self.written = 0

    def structured_report(self) -> dict[str, Any]:
        """Every digit is one of the valid ones (llama.cpp choice constraint), so each answer meets the schema."""
        return {"structured_mode": "tuned_digits", "structured_enforced": True, "structured_source": "configured"}

    def ask(self, choices: list[Choice], n: int, question: Question, temperature: float, seed: int, left: float) -> int:
        """One digit: the target or sub-channel of terminal ``n`` after ``choices``."""
        self.questions += 1
        if not self.ask_backend:
            return int(np.random.default_rng(seed).choice(valid_answers(self.instance, question)))
        messages = tuple(question_messages(self.table, choices, n, question))
        reply = self.ask_backend[question].complete(Request(messages, temperature, 1, None, seed, "tuned"), left)
        self.prompt_tokens += reply.prompt_tokens
        self.completion_tokens += reply.completion_tokens
        return int(reply.text.strip())

    def decide(self, temperature: float, seed: int, deadline: float) -> dict[str, np.ndarray]:
        """One decision: written whole (terminal by terminal) while the pool holds none of the model's, else
        the pool's best with ``rewrite`` terminals written again, each after the best's earlier terminals."""
        N = self.instance.params.N
        best = self.pool.items[-1].decision if self.pool is not None and self.pool.items and self.written else None
        choices = choices_of(best["offload"], best["power_w"]) if best is not None else []
        rng = np.random.default_rng(seed)
        redo = set(range(N)) if best is None else set(rng.choice(N, min(self.rewrite, N), replace=False).tolist())
        for n in range(N):
            if n not in redo:
                continue
            before = choices[:n]
            left = deadline - time.perf_counter()
            target = self.ask(before, n, "target", temperature, seed + 2 * n, left)
            left = deadline - time.perf_counter()
            channel = (
                self.ask([*before, (target, 0)], n, "channel", temperature, seed + 2 * n + 1, left) if target else 0
            )
            choices = [*before, (target, channel), *choices[n + 1 :]]
        self.written += 1
        return decision_of(self.instance, choices)

    def bind(self, optimizer: Optimizer) -> None:
        """Read the loop's example pool from now on."""
        self.pool = optimizer.pool

    def complete(self, request: Request, timeout_s: float) -> Reply:
        """``request.n`` proposals as JSON answers in the loop's format (the meta-prompt's text is not read:
        the pool is read directly)."""
        start = time.perf_counter()
        before = (self.prompt_tokens, self.completion_tokens)
        base = request.seed if request.seed is not None else 0
        texts = [
            self.fmt.text(self.decide(request.temperature, base + 1000 * k, start + timeout_s))
            for k in range(request.n)
        ]
        return Reply(
            texts[0],
            self.prompt_tokens - before[0],
            self.completion_tokens - before[1],
            time.perf_counter() - start,
            self.model,
            "stop",
            texts=texts,
        )


@register_solver(
    "llm-tuned",
    SCENARIO_ID,
    "extension: the LLM optimizer loop with the embedded SmolLM2 fine-tuned on `reference`'s decisions "
    "(LoRA adapter from `offloadlab train satellite-mec`)",
    budget_unit="evaluations",
    smoke=Smoke(options={"iterations": 2}, slow=True),
)
@llm_method()
def solve_llm_tuned(
    problem: Any,
    instance: Any,
    budget: int | None,
    rng: np.random.Generator,
    *,
    llm: LLMOptions,
    adapter: Adapter = None,
    rewrite: Rewrite = 2,
    digits: Digits = "model",
    iterations: Iterations = 30,
    patience: Patience = 10,
    pool_size: PoolSize = 3,
    initial_samples: InitialSamples = 100,
    pool_start: PoolStart = "default",
) -> Result:
    """Algorithm 1 of seed 000 with the fine-tuned proposer (an extension; see docs/satellite-mec.md)."""
    if not isinstance(instance, SatMecInstance):
        raise InputError("solver", "llm-tuned takes the dense satellite-mec instances, not the constellation ones")
    if (llm.backend or "embedded") != "embedded" or llm.replay:
        raise InputError("option llm_backend", "llm-tuned runs the embedded model with its adapter only")
    if llm.model not in (None, DEFAULT_MODEL):
        raise InputError("option llm_model", f"the adapter is trained on {DEFAULT_MODEL} (got {llm.model!r})")
    path, meta = find_adapter(adapter) if digits == "model" else (None, {})
    settings = parse_model(
        Settings,
        {"iterations": iterations, "patience": patience, "pool_size": pool_size,
         "initial_samples": initial_samples, "pool_start": pool_start},
        "option",
    )  # fmt: skip
    book = PromptBook(problem.manifest.prompt_dir, WORDING)
    fmt = book.answer_format(problem.decision_space(instance))
    proposer = TunedProposer(instance, fmt, path, llm.threads, rewrite)
    backend: Any = proposer
    if llm.record:
        from offloadlab.llm.replay import RecordingBackend

        backend = RecordingBackend(proposer, llm.record)
    result = optimize(problem, instance, budget, rng, backend, book, settings, llm, bind=proposer.bind)
    result.stats.update(
        extension=True,
        adapter=str(path) if path else None,
        adapter_val_accuracy=meta.get("val_accuracy"),
        tuned_questions=proposer.questions,
    )
    return result
