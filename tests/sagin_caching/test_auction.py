"""Auction rules: hand-worked outcomes, and property tests that MSB (with any rho rule that depends only on
the competitors' bids) is truthful and individually rational."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from offloadlab.scenarios.sagin_caching import auction

GRID = np.linspace(0.0, 12.0, 49)  # deviations x' of one bidder


def test_msb_hand_worked():
    bids = np.array([[5.0, 3.0, 1.0], [5.0, 3.0, 1.0], [5.0, 5.0, 1.0]])
    out = auction.msb(bids, np.array([2.0, 2.0, 2.0]), np.array([1.5, 2.0, 1.0]))
    # round 0: 5 > 1.5 * 3, BS 1 wins and pays 4.5; round 1: 5 < 2 * 3, the satellite wins and pays x0 = 2;
    # round 2: a tie at the top, no BS exceeds rho * max(x_-n), the satellite wins
    assert out.z == pytest.approx(np.array([[0, 1, 0, 0], [1, 0, 0, 0], [1, 0, 0, 0]]))
    assert out.p == pytest.approx(np.array([[0, 4.5, 0, 0], [2, 0, 0, 0], [2, 0, 0, 0]]))
    assert out.rho == pytest.approx([1.5, 2.0, 1.0])


def test_myopic_msb_is_second_price_with_reserve_x0():
    bids = np.array([[5.0, 3.0], [5.0, 3.0], [5.0, 0.0]])
    out = auction.msb(bids, np.array([4.0, 6.0, 4.0]), auction.myopic_rho)
    # rho = max(1, x0 / x(2)): threshold max(x(2), x0) -> wins at 4 (pays 4), loses at 6; x(2) = 0 -> pays x0
    assert out.z[:, 1] == pytest.approx([1, 0, 1])
    assert out.p[:, 1] == pytest.approx([4.0, 0.0, 4.0])
    assert out.rho[0] == pytest.approx(4.0 / 3.0)


def test_spa_hand_worked():
    out = auction.spa(np.array([[5.0, 3.0], [1.0, 3.0]]), np.array([4.0, 4.0]))
    assert out.z == pytest.approx(np.array([[0, 1, 0], [1, 0, 0]]))
    assert out.p == pytest.approx(np.array([[0, 4.0, 0], [3.0, 0, 0]]))


def test_surplus_and_contract_price():
    values = np.array([[2.0, 5.0, 3.0], [4.0, 1.0, 3.0]])
    # round 0: 5 > 1.2 * 3, BS 1 wins (value 5); round 1: 3 < 4 * 1, the satellite wins (value 4)
    s = auction.surplus(values, auction.msb(values[:, 1:], np.array([1.0, 1.0]), np.array([1.2, 4.0])))
    assert s["total"] == pytest.approx([5.0, 4.0])
    assert s["ground"] == pytest.approx([5.0, 0.0]) and s["satellite"] == pytest.approx([0.0, 4.0])
    # with rho = 1.2 in round 1, BS 2 wins (3 > 1.2): surplus 3 of an optimum 4
    s = auction.surplus(values, auction.msb(values[:, 1:], np.array([1.0, 1.0]), 1.2))
    assert s["total"] == pytest.approx([5.0, 3.0]) and s["optimal"] == pytest.approx([5.0, 4.0])
    # contract price: v1 sorted 0.5, 0.8, 2 with gains 0.5, 0.2, -1 -> cumulative max at 0.8
    assert auction.contract_price(np.ones(3), np.array([0.5, 2.0, 0.8])) == pytest.approx(0.8)


def test_rho_levels():
    assert auction.rho_level(np.arange(3), 10) == pytest.approx([1.0, 10**0.1, 10**0.2])


def _hash_rule(rest: np.ndarray, x0: np.ndarray) -> np.ndarray:
    """An arbitrary deterministic rho in [1, 10) of the competing bids only (stands in for a trained DQN)."""
    return auction.rho_level(np.floor(np.abs(np.sin(rest.sum(axis=1) * 7.3 + x0)) * 10), 10)


RULES = {"fixed": 1.7, "myopic": auction.myopic_rho, "dqn-like": _hash_rule}

profiles = st.integers(1, 5).flatmap(
    lambda n: st.tuples(
        st.lists(st.floats(0.0, 10.0, allow_nan=False), min_size=n, max_size=n), st.floats(0.0, 10.0, allow_nan=False)
    )
)


@settings(max_examples=60, deadline=None)
@given(profile=profiles, rule=st.sampled_from(sorted(RULES)))
def test_msb_is_truthful_and_individually_rational(profile, rule):
    values, x0 = np.array(profile[0]), profile[1]
    N = len(values)
    rho = RULES[rule]
    truthful = auction.utilities(np.concatenate([[0.0], values])[None], auction.msb(values[None], np.array([x0]), rho))[
        0, 1:
    ]
    assert np.all(truthful >= -1e-12)  # individual rationality: a truthful BS never pays above its value
    for n in range(N):
        lies = np.repeat(values[None], len(GRID) + 2, axis=0)
        lies[:, n] = np.concatenate([GRID, [values[n] * 0.999, values[n] * 1.001]])
        out = auction.msb(lies, np.full(len(lies), x0), rho)
        gained = out.z[:, 1 + n] * values[n] - out.p[:, 1 + n]  # utility at the true value after lying
        assert np.all(gained <= truthful[n] + 1e-9), f"bidder {n} gains by bidding {lies[np.argmax(gained), n]}"


@settings(max_examples=40, deadline=None)
@given(profile=profiles, rule=st.sampled_from(sorted(RULES)))
def test_at_most_one_winner_and_winner_is_top(profile, rule):
    values, x0 = np.array(profile[0]), profile[1]
    out = auction.msb(values[None], np.array([x0]), RULES[rule])
    assert out.z.sum() == pytest.approx(1.0)
    if out.z[0, 0] == 0:
        assert values[np.argmax(out.z[0, 1:])] == values.max()
        assert out.p[0, 1:].max() >= np.sort(values)[-2] if len(values) > 1 else True


def test_rho_from_the_whole_profile_is_not_truthful():
    """The enumeration has teeth: rho set from all bids (own bid included) invites shading."""
    values, x0 = np.array([8.0, 2.0]), 1.0

    def utility(bid):
        bids = np.array([[bid, values[1]]])
        rho = max(1.0, 0.9 * bid / values[1])  # pays 0.9 x its own bid: first-price-like
        out = auction.msb(bids, np.array([x0]), rho)
        return out.z[0, 1] * values[0] - out.p[0, 1]

    assert max(utility(b) for b in GRID) > utility(values[0]) + 1e-6
