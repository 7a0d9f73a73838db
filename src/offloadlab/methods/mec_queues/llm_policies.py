"""LLM policies of mec-queues: ``llm-zero-shot``, ``llm-sft``, ``llm-grpo`` and ``comllm`` (GRPO + LACS).

Every arriving task is one chat request through the shared LLM layer (``offloadlab.llm``: embedded llama.cpp by
default, any OpenAI-compatible server, or a replayed recording): the authors' prompt on the task's text state
(``dataset.chat_messages``: system prompt, instruction, one line per server), sampled as in their
evaluate_model.py (temperature 0.7, at most 20 new tokens; their top-p 0.9 is passed only where the backend
takes it, e.g. ``--llm-extra '{"top_p": 0.9}'`` for a server), the answer read by their rule
(``comllm.parse_action``: a server number first, then "local").

An answer that cannot be used, and what each world does with it:

- unparseable (neither a server number nor "local"): open loop, removed from the metrics as the authors do
  (the policy reports action -1, which ``openloop.score`` counts as a parse failure); closed loop, the task
  runs locally (our rule: the device always can) and is counted.
- a server id beyond S (e.g. "server 9" at 6 servers): open loop, scored by the authors' cost of an absent
  server (5.0 slots); closed loop, the task runs locally and is counted.
- no answer at all (the ``llm_calls`` budget or the token budget spent, or a transport failure after some
  answers): like an unparseable answer in both worlds, counted apart.

``answer_retries`` (default 0, as the authors) re-asks an unparseable answer with a new sampling seed.
The trained solvers load the GGUF exported by ``offloadlab train mec-queues --method sft|grpo|comllm``
(option ``model``, default ``<train dir>/mec-queues/<method>/model.gguf``) and report its training
(records, steps, wall time, servers trained on) from the ``mec_queues.json`` beside it; trained at 6 servers,
their 11-server runs are zero-shot with the 6-server model.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import Field

from offloadlab.core.errors import InputError
from offloadlab.core.registry import Smoke, register_solver
from offloadlab.core.result import Result
from offloadlab.core.trainers import default_train_dir
from offloadlab.llm import LLMClient, LLMError, LLMOptions, Request, TokenBudgetExhausted, llm_method, make_client
from offloadlab.llm.embedded import MODELS
from offloadlab.llm.finetune.adapters import ADAPTER_FILE, find_adapter
from offloadlab.methods.mec_queues.episode import add_open_loop, play, to_result
from offloadlab.methods.mec_queues.training import META_FILE
from offloadlab.scenarios.mec_queues.comllm import Answer as AnswerKind
from offloadlab.scenarios.mec_queues.comllm import read_answer
from offloadlab.scenarios.mec_queues.compact import compact_messages, valid_ids
from offloadlab.scenarios.mec_queues.dataset import chat_messages
from offloadlab.scenarios.mec_queues.instance import MecInstance
from offloadlab.scenarios.mec_queues.oracles import arriving
from offloadlab.scenarios.mec_queues.params import SCENARIO_ID
from offloadlab.scenarios.mec_queues.sim import QueueSim
from offloadlab.scenarios.mec_queues.text import TextState, observe

EVAL_TEMPERATURE = 0.7  # the authors' evaluate_model.py
EVAL_MAX_TOKENS = 20
EVAL_MAX_TOKENS_ID = 2  # an id answer is one token (the grammar then ends it)
# the rest of the authors' sampling (evaluate_model.py: top_p 0.9, repetition_penalty 1.1), by backend
EVAL_SAMPLING = {
    "embedded": {"top_p": 0.9, "repeat_penalty": 1.1},
    "openai": {"top_p": 0.9, "repetition_penalty": 1.1},
}
SHIPPED_ADAPTERS = Path(__file__).parent / "adapters"
Answer = Annotated[
    AnswerKind,
    Field(description="answer: id (0 = local, else the server's letter; one token) or paper (the authors' decision)"),
]
StateFormat = Annotated[
    Literal["compact", "paper"],
    Field(description="state text: compact (a short line per server) or paper (the authors' long English)"),
]
FALLBACK = 0  # closed loop: a task without a usable answer runs locally
UNANSWERED = -1  # open loop: scored as a parse failure (infinite cost, removed)
WORLDS = ("closed", "open")


class LLMPolicy:
    """Asks the model for each arriving task's action; counts unusable answers per world."""

    def __init__(
        self,
        client: LLMClient,
        options: LLMOptions,
        rng: np.random.Generator,
        budget: int | None,
        state: StateFormat = "paper",
        answer: Answer = "paper",
    ):
        self.client, self.options, self.rng, self.budget = client, options, rng, budget
        self.state_format, self.answer_format = state, answer
        self.max_tokens = options.max_tokens or (EVAL_MAX_TOKENS_ID if answer == "id" else EVAL_MAX_TOKENS)
        self.world = "closed"
        self.counts: dict[str, Counter] = {w: Counter() for w in WORLDS}
        self.stopped = ""

    def answer(self, state: TextState) -> int | None:
        """The parsed action of one task (None: unparseable, or no answer), re-asked ``answer_retries`` times."""
        messages = tuple(compact_messages(state) if self.state_format == "compact" else chat_messages(state))
        for attempt in range(self.options.answer_retries + 1):
            text = self.ask(messages, attempt)
            if text is None:
                return None
            action = read_answer(text, state, self.answer_format)
            if action is not None:
                return action
            self.counts[self.world]["unparseable_answers"] += 1
        return None

    def ask(self, messages: tuple[dict[str, str], ...], attempt: int) -> str | None:
        """One answer text, or None (counted) when the budget is spent or the backend failed after answering."""
        if self.budget is not None and self.client.usage.calls >= self.budget:
            self.stopped = self.stopped or "budget"
        if self.stopped:
            self.counts[self.world]["unanswered"] += 1
            return None
        request = Request(
            messages,
            self.options.temperature,
            self.max_tokens,
            None,
            int(self.rng.integers(2**31 - 1)),
            "retry" if attempt else "decide",
        )
        try:
            return self.client.complete(request).text
        except TokenBudgetExhausted:
            self.stopped = "token_budget"
        except LLMError as exc:
            if self.client.usage.calls == 0:
                raise  # never answered: a configuration error, not a policy outcome
            self.stopped = f"llm_error: {exc}"
        self.counts[self.world]["unanswered"] += 1
        return None

    def __call__(self, sim: QueueSim) -> np.ndarray:
        acts = np.zeros(sim.D, dtype=np.int64)
        queue = sim.server_backlog_mbit()[0].sum(axis=0)
        for d in arriving(sim):
            action = self.answer(observe(sim, 0, int(d), queue))
            self.counts[self.world]["tasks"] += 1
            if action is None:
                self.counts[self.world]["unusable"] += 1
                acts[d] = FALLBACK if self.world == "closed" else UNANSWERED
            elif action > sim.S and self.world == "closed":
                self.counts["closed"]["unusable"] += 1
                self.counts["closed"]["absent_server"] += 1
                acts[d] = FALLBACK
            else:  # the open loop scores an absent server by the authors' 5.0
                self.counts[self.world]["absent_server"] += int(action > sim.S)
                acts[d] = action
        return acts

    def stats(self) -> dict[str, Any]:
        """Per-world answer counts and the stop reason."""
        keys = ("tasks", "unusable", "unparseable_answers", "absent_server", "unanswered")
        return {f"{w}_{k}": int(self.counts[w][k]) for w in WORLDS for k in keys} | {
            "stop_reason": self.stopped or "episode_end"
        }


def play_llm(
    instance: MecInstance,
    client: LLMClient,
    options: LLMOptions,
    rng: np.random.Generator,
    budget: int | None,
    open_loop: bool,
    formats: tuple[StateFormat, Answer] = ("paper", "paper"),
    **stats: Any,
) -> Result:
    """The closed-loop episode, then (``open_loop``) the open-loop test set, with one policy that knows which
    world it is in (the two halves of ``episode.run_policy``); ``formats`` = (state text, answer)."""
    started = time.perf_counter()
    policy = LLMPolicy(client, options, rng, budget, *formats)
    result = to_result(play(instance, policy), started, **stats)
    if open_loop:
        policy.world = "open"
        add_open_loop(result, instance, policy)
    result.stats.update(client.usage.stats(), backend=client.backend.name, **policy.stats())
    result.stats["seconds"] = time.perf_counter() - started
    if policy.counts["closed"]["tasks"] and policy.counts["closed"]["unanswered"] == policy.counts["closed"]["tasks"]:
        raise LLMError(
            f"llm ({client.backend.name})",
            f"no answer for any of the {policy.counts['closed']['tasks']} tasks ({policy.stopped})",
        )
    return result


def _instance(problem: Any, instance: Any) -> MecInstance:
    return instance if isinstance(instance, MecInstance) else problem.load_instance(instance)


def _sampling(llm: LLMOptions, servers: int | None = None, adapter: str | None = None) -> LLMOptions:
    """The options with the authors' evaluation sampling where the user set none (temperature 0.7, top-p
    0.9, repetition penalty 1.1; one answer per task); for id answers (``servers`` given) the grammar's
    valid ids, and the embedded backend's LoRA ``adapter``."""
    if llm.samples != 1:
        raise InputError("option samples", f"must be 1: each task gets one answer, as the authors' (got {llm.samples})")
    if "temperature" not in llm.model_fields_set:
        llm = llm.model_copy(update={"temperature": EVAL_TEMPERATURE})
    backend = llm.backend or ("replay" if llm.replay else "embedded")
    extra: dict[str, Any] = (
        dict(EVAL_SAMPLING.get(backend, {})) if "extra" not in llm.model_fields_set else dict(llm.extra)
    )
    if servers is not None and backend in EVAL_SAMPLING:
        extra["guided_choice"] = valid_ids(servers)
    if adapter is not None and backend == "embedded":
        extra["lora_path"] = adapter
    return llm.model_copy(update={"extra": extra})


@register_solver(
    "llm-zero-shot",
    SCENARIO_ID,
    "an untrained LLM asked per task on the authors' text state "
    "(embedded SmolLM2 by default; --llm-backend embedded|openai|replay)",
    budget_unit="llm_calls",
    smoke=Smoke(options={"open_loop": False}, slow=True),
)
@llm_method(answer_retries=0)
def llm_zero_shot(
    problem: Any,
    instance: Any,
    budget: int | None,
    rng: np.random.Generator,
    *,
    llm: LLMOptions,
    open_loop: Annotated[bool, Field(description="also score the authors' open-loop world")] = True,
    state: StateFormat = "paper",
    answer: Answer = "paper",
) -> Result:
    """Zero-shot LLM policy; ``budget`` caps its LLM calls, ``open_loop`` adds the authors' world;
    ``state``/``answer``: the authors' long text and decision name, or the compact text and the bare id."""
    inst = _instance(problem, instance)
    llm = _sampling(llm, inst.params.servers if answer == "id" else None)
    client = make_client(llm)
    return play_llm(
        inst, client, llm, rng, budget, open_loop, (state, answer), label="LLM, zero-shot", model=client.backend.model
    )


def trained_model(method: str, model: str | None) -> tuple[str, dict[str, Any]]:
    """The GGUF to load (``model``, or the default under the train dir) and its training summary (if any);
    a missing or wrong file is one InputError naming it."""
    if model in MODELS:
        return model, {"trained": False}
    path = Path(model) if model else default_train_dir(SCENARIO_ID) / method / "model.gguf"
    hint = f"train it with `offloadlab train {SCENARIO_ID} --method {method}` or give --model PATH"
    if not path.is_file():
        raise InputError("option model", f"'{path}' not found ({hint})")
    with path.open("rb") as fh:
        if fh.read(4) != b"GGUF":
            raise InputError("option model", f"'{path}' is not a GGUF file ({hint})")
    meta_file = path.parent / META_FILE
    return str(path), json.loads(meta_file.read_text()) if meta_file.is_file() else {}


def trained_adapter(method: str, adapter: str | None) -> tuple[str, dict[str, Any]]:
    """The LoRA adapter GGUF of a compact-state policy and its training summary: ``adapter``, else the one
    ``offloadlab train`` wrote under the default train dir, else the one shipped with the package. A missing
    or wrong file is one InputError naming what is needed."""
    hint = f"train it with `offloadlab train {SCENARIO_ID} --method {method}` or give --adapter PATH"
    local = default_train_dir(SCENARIO_ID) / method / ADAPTER_FILE
    path, meta = find_adapter(adapter, local, SHIPPED_ADAPTERS / f"{method}.gguf", method, hint)
    if meta.get("answer") == "id" and meta.get("names") != "letters":
        raise InputError(
            "option adapter",
            f"'{path}' was trained on an older compact state (servers numbered, not lettered): retrain it ({hint})",
        )
    return str(path), meta


def training_stats(model: str, meta: dict[str, Any]) -> dict[str, Any]:
    """The stats keys the paper's table shows as the training behind a row."""
    if not meta or not meta.get("trained", True):
        return {"model": model, "trained": False}
    if meta.get("answer") == "id":  # a compact-state adapter (cpu profile)
        steps = (
            f"{meta['steps']}"
            if meta["method"] == "sft"
            else f"sft {meta['sft_steps']} + {meta['method']} {meta['steps']}"
        )
        return {
            "model": model,
            "adapter": model,
            "train_records": meta["records"]["train"],
            "training_steps": steps,
            "trained_servers": meta["trained_servers"],
            "training_seconds": float(meta["wall_s"]) + float(meta.get("sft_wall_s", 0.0)),
            "training_label": meta["label"],
            "training_profile": meta["profile"],
            "val_accuracy": meta["val_accuracy"],
        }
    steps = (
        f"{meta['steps']}" if "sft_steps" not in meta else f"sft {meta['sft_steps']} + {meta['method']} {meta['steps']}"
    )
    seconds = float(meta["wall_s"]) + float(meta.get("sft_wall_s", 0.0))
    return {
        "model": model,
        "adapter": meta["adapter"],
        "train_records": meta["train_records"],
        "training_steps": steps,
        "trained_servers": meta["trained_servers"],
        "training_seconds": seconds,
        "training_label": meta["label"],
        "training_profile": meta["profile"],
    }


def played_file(method: str, options: Mapping[str, Any]) -> str | None:
    """Content hash of the adapter (or merged model) a trained solver's options select; None when there is
    none to find (the run itself then stops with the missing-file error)."""
    try:
        if options.get("state", "compact") == "compact" and options.get("answer", "id") == "id":
            path = trained_adapter(method, options.get("adapter"))[0]
        else:
            path = trained_model(method, options.get("model"))[0]
        return "sha256:" + hashlib.sha256(Path(path).read_bytes()).hexdigest()[:16]
    except (InputError, OSError):
        return None


def _trained_solver(method: str, name: str, label: str, description: str) -> None:
    """Register the solver that plays the model trained by ``offloadlab train mec-queues --method method``."""

    @register_solver(
        name,
        SCENARIO_ID,
        description,
        budget_unit="llm_calls",
        smoke=Smoke(options={"open_loop": False}, slow=True),
        artefact=lambda options: played_file(method, options),
    )
    @llm_method(answer_retries=0)
    def solve(
        problem: Any,
        instance: Any,
        budget: int | None,
        rng: np.random.Generator,
        *,
        llm: LLMOptions,
        adapter: Annotated[
            str | None, Field(description="LoRA adapter GGUF (default: the train folder's, else the shipped one)")
        ] = None,
        model: Annotated[
            str | None, Field(description="merged policy GGUF of --profile paper (authors' formats only)")
        ] = None,
        state: StateFormat = "compact",
        answer: Answer = "id",
        open_loop: Annotated[bool, Field(description="also score the authors' open-loop world")] = True,
    ) -> Result:
        """Play the trained policy. Compact state and id answer (default): the LoRA ``adapter`` GGUF on the
        embedded base model (default: the one trained under the train dir, else the shipped one). The authors'
        formats (``state``/``answer`` paper): the merged ``model`` GGUF of ``--profile paper``. With
        ``--llm-backend openai`` the server's ``--llm-model`` answers and the files only name the training."""
        inst = _instance(problem, instance)
        backend = llm.backend or ("replay" if llm.replay else "embedded")
        embedded = backend == "embedded"
        if embedded and llm.model is not None:
            raise InputError("option llm_model", "the trained policy is given with --adapter (or --model)")
        if (state, answer) == ("compact", "id"):
            path, meta = trained_adapter(method, adapter)
            base = meta.get("base_model", "smollm2")
            llm = _sampling(llm.model_copy(update={"model": base}) if embedded else llm, inst.params.servers, path)
        elif (state, answer) == ("paper", "paper"):
            path, meta = trained_model(method, model) if embedded or model else (llm.model or llm.replay or "", {})
            llm = _sampling(llm.model_copy(update={"model": path}) if embedded else llm)
        else:
            raise InputError(
                "option state", "a trained policy reads compact states with id answers, or paper with paper"
            )
        client = make_client(llm)
        return play_llm(
            inst, client, llm, rng, budget, open_loop, (state, answer), label=label, **training_stats(path, meta)
        )

    solve.__name__ = name.replace("-", "_")


_trained_solver(
    "sft",
    "llm-sft",
    "LLM fine-tuned on oracle labels (SFT)",
    "SmolLM2 after SFT on oracle-labelled text states (offloadlab train mec-queues --method sft)",
)
_trained_solver(
    "grpo",
    "llm-grpo",
    "LLM after SFT + GRPO (authors' reward)",
    "SmolLM2 after SFT + GRPO with the authors' reward (--method grpo)",
)
_trained_solver(
    "comllm",
    "comllm",
    "COMLLM: SFT + GRPO with the LACS reward (proposed)",
    "COMLLM: SmolLM2 after SFT + GRPO with the look-ahead (LACS) reward (--method comllm)",
)
