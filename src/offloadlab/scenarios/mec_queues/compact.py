"""The compact text state and the one-token answer (``--state compact``, ``--answer id``).

Only the numbers that the one-step cost, the oracle label and the LACS reward read: the task's size,
the local and network waits, the upload rate, and per server its speed, active tasks and queue, one short
line per server (``name:GHz,active,queue``), then the task's line last: the tasks of one slot share every
token up to it, so a model reads the server table once per slot (llama.cpp reuses the cached prefix;
training packs a slot's tasks into one sequence). The constants of a preset (slot length, device speed,
computation density) are the same in every state and are left out.

Servers are named by letters, ``A`` for the first in the list, ``B`` for the second, ...; the answer is the
chosen name alone, ``0`` for local. Every name is one token with the shipped tokenizer (SmolLM2 writes a
lone capital as one token; numbers are split into digits, so ids 10 and up would take two), which keeps
the answer one forward pass at any S up to 26. A ``Naming`` shows the servers in another order under other
letters: training draws one per slot (shuffled order, names a sorted random subset of a larger pool), so a
policy learns to read each line rather than where a fast server usually sits, and has answered every
letter of the pool even when trained at S = 6 — that is what lets it choose among 11 servers. Numbers are
rounded (sizes and queues to 0.1 Mbit, waits to whole slots, speeds to whole GHz) to keep the prompt
short; the labels and rewards are computed from the exact state.
"""

from __future__ import annotations

import string
from dataclasses import dataclass

import numpy as np

from offloadlab.core.errors import InputError
from offloadlab.scenarios.mec_queues.text import TextState

COMPACT_SYSTEM = "Offload the task: answer the letter of the server of least delay, 0 = local."
COLUMNS = "server:GHz,active tasks,queue Mbit"
LOCAL = "0"
LETTERS = string.ascii_uppercase
MAX_COMPACT_SERVERS = len(LETTERS)


@dataclass(frozen=True)
class Naming:
    """How the servers appear: ``order[k]`` = the server (0-based) shown on line k, ``names[k]`` its letter."""

    order: tuple[int, ...]
    names: tuple[str, ...]

    def answer(self, action: int) -> str:
        """The answer text of an action (0 = local, s = server s)."""
        return LOCAL if action == 0 else self.names[self.order.index(action - 1)]

    def action(self, answer: str) -> int | None:
        """The action of an answer text (None: not a name in this naming)."""
        text = answer.strip() if isinstance(answer, str) else ""
        if text == LOCAL:
            return 0
        return self.order[self.names.index(text)] + 1 if text in self.names else None

    @property
    def answers(self) -> list[str]:
        """Every answer this naming allows: local, then the letters in list order."""
        return [LOCAL, *self.names]


def plain_naming(servers: int) -> Naming:
    """Servers in their order as A, B, C, ... (what a deployed policy reads)."""
    if not 1 <= servers <= MAX_COMPACT_SERVERS:
        raise InputError("servers", f"the compact state names at most {MAX_COMPACT_SERVERS} servers (got {servers})")
    return Naming(tuple(range(servers)), tuple(LETTERS[:servers]))


def random_naming(servers: int, pool: int, rng: np.random.Generator) -> Naming:
    """A shuffled order under a sorted random choice of ``servers`` letters from the first ``pool``; the
    pool's size is drawn from servers..pool, so the plain naming is among the outcomes."""
    if not 1 <= servers <= pool <= MAX_COMPACT_SERVERS:
        raise InputError("name_pool", f"must be in {servers}..{MAX_COMPACT_SERVERS} (got {pool})")
    size = int(rng.integers(servers, pool + 1))
    names = sorted(rng.choice(size, servers, replace=False).tolist())
    return Naming(tuple(int(s) for s in rng.permutation(servers)), tuple(LETTERS[i] for i in names))


def compact_text(state: TextState, naming: Naming | None = None) -> str:
    """The state in a few short lines (the user message of the compact prompt)."""
    naming = naming or plain_naming(len(state.servers))
    head = f"upload {state.upload_mbit_per_slot:.1f} Mbit/slot; {COLUMNS}"
    shown = [state.servers[k] for k in naming.order]
    rows = [f"{name}:{s.ghz:.0f},{s.active},{s.queue_mbit:.1f}" for name, s in zip(naming.names, shown)]
    task = (
        f"task {state.task_mbit:.1f} Mbit, local wait {state.local_wait_slots:.0f}, net wait {state.net_wait_slots:.0f}"
    )
    return "\n".join([head, *rows, task])


def compact_messages(state: TextState, naming: Naming | None = None) -> list[dict[str, str]]:
    """System and user messages of the compact prompt; the static part (system) comes first."""
    return [{"role": "system", "content": COMPACT_SYSTEM}, {"role": "user", "content": compact_text(state, naming)}]


def id_answer(action: int, servers: int) -> str:
    """The one-token answer of an action in the plain naming: ``0`` or the server's letter."""
    return plain_naming(servers).answer(int(action))


def valid_ids(servers: int) -> list[str]:
    """The answers a state with ``servers`` servers allows: "0" (local), then "A" .. its last letter."""
    return plain_naming(servers).answers


def answer_pool(pool: int) -> list[str]:
    """Every answer a policy trained with a name pool of ``pool`` letters may give (its choice tokens)."""
    return [LOCAL, *LETTERS[:pool]]


def parse_id(text: str, servers: int, naming: Naming | None = None) -> int | None:
    """The action of an id answer: local or a server's name in ``naming`` (default: plain), else None."""
    if not isinstance(text, str) or servers > MAX_COMPACT_SERVERS:
        return None
    return (naming or plain_naming(servers)).action(text)
