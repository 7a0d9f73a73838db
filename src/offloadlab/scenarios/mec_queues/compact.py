"""The compact text state and the one-token answer (``--state compact``, ``--answer id``).

Only the numbers that the one-step cost, the oracle label and the LACS reward read: the task's size,
the local and network waits, the upload rate, and per server its speed, active tasks and queue, one short
line per server
(``id:GHz,active,queue``), then the task's line last: the tasks of one slot share every token up to it, so
a model reads the server table once per slot (llama.cpp reuses the cached prefix; training packs a slot's
tasks into one sequence). The constants of a preset (slot length, device speed, computation density) are the
same in every state and are left out. Servers are named by their place in the list (1, 2, ...), so a
policy trained at S = 6 reads an 11-server state in the same format and may answer any id in it.

The answer is the chosen id alone (``0`` = local, ``s`` = server s): one token for ids 0-9 with the
shipped tokenizer (SmolLM2 writes every digit as its own token), so the answer is one forward pass; ids
10 and up are two tokens, which the grammar allows at S > 9. Numbers are rounded (sizes and queues to
0.1 Mbit, waits to whole slots, speeds to whole GHz) to keep the prompt short; the labels and rewards are
computed from the exact state.
"""

from __future__ import annotations

import re

from offloadlab.scenarios.mec_queues.text import TextState

COMPACT_SYSTEM = "Offload the task: answer the id of least delay, 0 = local."
COLUMNS = "server:GHz,active tasks,queue Mbit"
_ID_RE = re.compile(r"^\s*(\d+)\s*$")


def compact_text(state: TextState) -> str:
    """The state in a few short lines (the user message of the compact prompt)."""
    head = f"upload {state.upload_mbit_per_slot:.1f} Mbit/slot; {COLUMNS}"
    rows = [f"{s.id}:{s.ghz:.0f},{s.active},{s.queue_mbit:.1f}" for s in state.servers]
    task = (
        f"task {state.task_mbit:.1f} Mbit, local wait {state.local_wait_slots:.0f}, net wait {state.net_wait_slots:.0f}"
    )
    return "\n".join([head, *rows, task])


def compact_messages(state: TextState) -> list[dict[str, str]]:
    """System and user messages of the compact prompt; the static part (system) comes first."""
    return [{"role": "system", "content": COMPACT_SYSTEM}, {"role": "user", "content": compact_text(state)}]


def id_answer(action: int) -> str:
    """The one-token answer of an action: its id as digits."""
    return str(int(action))


def valid_ids(servers: int) -> list[str]:
    """The answers a state with ``servers`` servers allows: "0" (local) to str(servers)."""
    return [str(i) for i in range(servers + 1)]


def parse_id(text: str, servers: int) -> int | None:
    """The action of an id answer: a bare integer in 0..servers, else None (unusable)."""
    m = _ID_RE.match(text) if isinstance(text, str) else None
    if m is None:
        return None
    action = int(m.group(1))
    return action if action <= servers else None
