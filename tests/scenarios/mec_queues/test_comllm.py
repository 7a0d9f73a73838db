"""The authors' one-step cost, LACS, rewards, text state and open-loop metrics on hand-worked values."""

from __future__ import annotations

import numpy as np
import pytest

from offloadlab.scenarios.mec_queues import comllm
from offloadlab.scenarios.mec_queues.params import make_params
from offloadlab.scenarios.mec_queues.text import (
    INPUT_MARKER,
    format_input,
    format_lines,
    parse_input,
    state_from_params,
    user_prompt,
)

# README example of the authors' repository: 4.1934 Mbit, local wait 3 slots, servers 41.8 / 30 / 22 GHz,
# server 3 with one active task and 7.2721 Mbit queued
P3 = make_params("comllm", servers=3)
README = state_from_params(
    P3,
    4.1934,
    3.0,
    0.0,
    active=[0, 0, 1],
    queue_mbit=[0.0, 0.0, 7.2721],
    history=[[2, 0, 1, 1, 0, 1, 0, 2, 1, 2], [0, 1, 0, 0, 1, 3, 1, 1, 0, 1], [3, 3, 0, 3, 4, 2, 0, 0, 3, 3]],
)


def test_readme_costs():
    # local 3 + 4.1934 / (0.25 / 0.297); server s: 4.1934 / 1.4 + (queue + 4.1934) / (f_s 0.1 / (active + 1) / 0.297)
    assert np.round(comllm.comllm_costs(README), 2).tolist() == [7.98, 3.29, 3.41, 6.09]
    assert comllm.comllm_cost(README, 3) == pytest.approx(4.1934 / 1.4 + (7.2721 + 4.1934) / (2.2 / 2 / 0.297))
    assert comllm.comllm_cost(README, 4) == 5.0 and comllm.comllm_cost(README, -1) == float("inf")
    assert comllm.comllm_oracle(README) == 1


def test_text_round_trip_and_format():
    rec = format_input(README)
    assert rec["Task size"] == "4.1934 Mbits" and rec["Local CPU queue wait"] == "3.0000 slots"
    assert rec["Edge server 3"] == (
        "type energy-saving, CPU 22.0 GHz, cycles per bit 297.0, active tasks 1, total queue 7.2721 Mbits, "
        "load over the last 10 slots: [3.0, 3.0, 0.0, 3.0, 4.0, 2.0, 0.0, 0.0, 3.0, 3.0]"
    )
    assert parse_input(rec) == README
    assert parse_input(user_prompt(README)) == README
    assert INPUT_MARKER in user_prompt(README) and format_lines(rec).count("\n") == len(rec) - 1


def test_text_same_format_for_eleven_servers():
    p = make_params("comllm", servers=11)
    s = state_from_params(p, 3.0, 0.0, 1.0, active=[1] * 11, queue_mbit=[2.5] * 11)
    rec = format_input(s)
    assert [k for k in rec if k.startswith("Edge server")] == [f"Edge server {i}" for i in range(1, 12)]
    assert parse_input(rec) == s and comllm.comllm_costs(s).shape == (12,)


def test_lacs_hand_values():
    # after offloading to server 1 (now 1 active, 4.1934 queued) server 2 is the cheapest for every future
    # size x in [2.10, 6.29]: cost x / 1.4 + x / (3.0 / 0.297);
    # after server 2, server 1 wins: x / 1.4 + x / (4.18 / 0.297)
    x = np.random.default_rng(5).uniform(4.1934 * 0.5, 4.1934 * 1.5, size=(3, 1))[:, 0]
    assert comllm.lacs_impact(README, 1, np.random.default_rng(5)) == pytest.approx(np.mean(x / 1.4 + x * 0.297 / 3.0))
    assert comllm.lacs_impact(README, 2, np.random.default_rng(5)) == pytest.approx(np.mean(x / 1.4 + x * 0.297 / 4.18))
    # local: the local wait grows by 4.98 slots, the servers are unchanged: server 1 is best
    assert comllm.lacs_impact(README, 0, np.random.default_rng(5)) == pytest.approx(np.mean(x / 1.4 + x * 0.297 / 4.18))


@pytest.mark.parametrize(
    "answer, grpo, com",
    [
        ("Offload to edge server 2", 0.8 * (1 - 3.410441) + 0.2 * 1.5, None),
        ("local", 0.8 * (1 - 7.981758) + 0.2 * 1.5, None),
        ('{"action": 1}', 0.8 * -10 + 0.2 * 0.5, 0.8 * -10 + 0.2 * -1.5),
        ("server 9", 0.8 * (1 - 5.0) + 0.2 * 1.5, None),
        ("", 0.8 * -10 + 0.2 * -2, 0.8 * -10 + 0.2 * -2),
        ("maybe", 0.8 * -10 + 0.2 * -1.5, 0.8 * -10 + 0.2 * -0.5),
        # 53 characters: length penalty |53 - 17| / 10
        (
            "I pick server 3 because its queue is the shortest one",
            0.8 * (1 - (4.1934 / 1.4 + 11.4655 * 0.297 / 1.1)) + 0.2 * (1.5 - 3.6),
            None,
        ),
    ],
)
def test_rewards_on_hand_made_answers(answer, grpo, com):
    rng = np.random.default_rng(0)
    assert comllm.reward(answer, README, "grpo", rng) == pytest.approx(grpo, abs=1e-5)
    if com is not None:
        assert comllm.reward(answer, README, "comllm", rng) == pytest.approx(com, abs=1e-5)


def test_comllm_reward_adds_lacs_and_overflow_penalty():
    lacs = comllm.lacs_impact(README, 1, np.random.default_rng(1))
    got = comllm.reward("Offload to edge server 1", README, "comllm", np.random.default_rng(1))
    assert got == pytest.approx(0.8 * (1 - (3.293235 + 0.3 * lacs)) + 0.2 * 1.5, abs=1e-5)
    busy = state_from_params(P3, 4.1934, 8.0, 0.0, active=[0, 0, 1], queue_mbit=[0.0, 0.0, 7.2721])
    # local cost 12.98 > 10: no LACS, a further -10
    assert comllm.reward("local", busy, "comllm", np.random.default_rng(1)) == pytest.approx(
        0.8 * (1 - 12.981758 - 10) + 0.2 * 1.5, abs=1e-5
    )
    assert comllm.reward("local", None, "grpo", np.random.default_rng(1)) == -10.0


def test_parse_action_prefers_server():
    assert comllm.parse_action("not local, server 2") == 2
    assert comllm.parse_action("卸载到边缘服务器3") == 3
    assert comllm.parse_action("Execute locally") == 0
    assert comllm.parse_action("server 0") is None and comllm.parse_action("nothing") is None


def test_open_loop_metrics_as_the_authors():
    m = comllm.open_loop_metrics([3.0, 13.0, float("inf"), 5.0], [3.0] * 4, [1, 3, None, 1], servers=6)
    assert m["parse_failures"] == 1 and m["mean_cost_slots"] == 7.0
    assert m["drop_rate_pct"] == pytest.approx(100 / 3)
    assert m["performance_ratio_pct"] == pytest.approx(300 / 7)
    assert m["jain_max_id_pct"] == pytest.approx(60.0)  # counts [2, 0, 1], n = 3
    assert m["jain_servers_pct"] == pytest.approx(30.0)  # counts [2, 0, 1, 0, 0, 0], n = 6
