"""The GA's population-wide operators: hand-worked values of SBX and polynomial mutation, tournaments,
survival order, duplicate elimination and the breeder's refill."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from offloadlab.solvers.evolution import (
    Bounds,
    Breeder,
    duel,
    mutate,
    novel,
    ranked,
    repair,
    sbx,
    tournament,
)

UNIT = Bounds(np.zeros(1), np.ones(1), np.zeros(1, dtype=bool))
MIXED = Bounds(np.zeros(4), np.array([12.0, 12.0, 0.2, 0.2]), np.array([True, True, False, False]))


class FixedDraws:
    """A generator stand-in whose every uniform draw is ``u``, so operators can be worked by hand."""

    def __init__(self, u: float):
        self.u = u

    def random(self, size: int | tuple[int, ...]) -> np.ndarray:
        return np.full(size, self.u)


def test_sbx_by_hand():
    # parents 0.4, 0.6 in [0, 1], eta 1, every draw 0.25 (gene crossed, swap):
    # beta = 1 + 2 * 0.4 / 0.2 = 5 on both sides, alpha = 2 - 5**-2 = 1.96,
    # 0.25 <= 1 / alpha so betaq = (0.25 * 1.96) ** (1/2) = 0.7;
    # low = (1.0 - 0.7 * 0.2) / 2 = 0.43, high = (1.0 + 0.14) / 2 = 0.57; swapped: child 1 gets high
    c1, c2 = sbx(np.array([[0.4]]), np.array([[0.6]]), UNIT, FixedDraws(0.25), eta=1.0)  # type: ignore[arg-type]
    np.testing.assert_allclose([c1[0, 0], c2[0, 0]], [0.57, 0.43])
    # draw 0.75: not crossed (0.75 >= 1/2): the children copy the parents
    c1, c2 = sbx(np.array([[0.4]]), np.array([[0.6]]), UNIT, FixedDraws(0.75), eta=1.0)  # type: ignore[arg-type]
    np.testing.assert_array_equal([c1[0, 0], c2[0, 0]], [0.4, 0.6])


@settings(max_examples=50, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_sbx_children_straddle_the_parents_midpoint_within_bounds(seed):
    rng = np.random.default_rng(seed)
    x1, x2 = rng.random((50, 4)) * MIXED.hi, rng.random((50, 4)) * MIXED.hi
    c1, c2 = sbx(x1, x2, MIXED, rng)
    assert np.all((c1 >= MIXED.lo) & (c1 <= MIXED.hi) & (c2 >= MIXED.lo) & (c2 <= MIXED.hi))
    # a crossed gene: one child below the parents' midpoint, the other above; else both copy
    mid = (x1 + x2) / 2
    crossed = (c1 != x1) | (c2 != x2)
    assert np.all((np.minimum(c1, c2) <= mid + 1e-12) & (np.maximum(c1, c2) >= mid - 1e-12))
    assert 0.3 < crossed.mean() < 0.7  # each gene crossed with probability 1/2


def test_polynomial_mutation_and_integer_reset_by_hand():
    # every draw 0.25: every gene mutated; continuous gene 0.5 in [0, 1], eta 1, 0.25 <= 1/2:
    # deltaq = (2 * 0.25 + (1 - 0.5) * (1 - 0.5) ** 2) ** (1/2) - 1 = 0.625 ** 0.5 - 1
    bounds = Bounds(np.zeros(2), np.array([12.0, 1.0]), np.array([True, False]))
    Y = mutate(np.array([[7.0, 0.5]]), bounds, FixedDraws(0.25), gene_prob=1.0, eta=1.0)  # type: ignore[arg-type]
    # the integer gene is reset to floor(0 + 0.25 * 13) = 3
    np.testing.assert_allclose(Y, [[3.0, 0.5 + 0.625**0.5 - 1]])
    # 0.75 <= 1/2 fails: the step goes up, deltaq = 1 - (2 * 0.25 + 2 * 0.25 * 0.5 ** 2) ** (1/2)
    Y = mutate(np.array([[7.0, 0.5]]), bounds, FixedDraws(0.75), gene_prob=1.0, eta=1.0)  # type: ignore[arg-type]
    np.testing.assert_allclose(Y, [[9.0, 0.5 + 1 - 0.625**0.5]])  # reset to floor(0.75 * 13) = 9
    # draw 0.25 >= gene probability 0.2: the genes are left alone
    Y = mutate(np.array([[7.0, 0.5]]), bounds, FixedDraws(0.25), gene_prob=0.2, eta=1.0)  # type: ignore[arg-type]
    np.testing.assert_array_equal(Y, [[7.0, 0.5]])


def test_mutation_touches_about_gene_prob_of_the_genes():
    rng = np.random.default_rng(0)
    X = repair(rng.random((20_000, 4)) * MIXED.hi, MIXED)
    Y = mutate(X, MIXED, rng, gene_prob=0.25, eta=5.0)
    changed = Y != X
    # an integer reset redraws the same value with probability 1/13
    assert 0.24 < changed[:, 2:].mean() < 0.26 and 0.22 < changed[:, :2].mean() < 0.24
    assert np.all(Y[:, :2] == np.round(Y[:, :2])) and np.all((Y >= MIXED.lo) & (Y <= MIXED.hi))


def test_duel_is_feasibility_first():
    cv = np.array([0.0, 0.0, 2.0, 1.0])
    f = np.array([5.0, 3.0, 0.0, 9.0])
    # feasible pair: smaller objective; infeasible pair: fewer violations; mixed: the feasible one
    winners = duel(np.array([0, 2, 0, 3]), np.array([1, 3, 2, 1]), cv, f, np.random.default_rng(0))
    np.testing.assert_array_equal(winners, [1, 3, 0, 1])


def test_duel_breaks_ties_at_random():
    cv, f = np.zeros(2), np.ones(2)
    winners = duel(np.zeros(1000, dtype=int), np.ones(1000, dtype=int), cv, f, np.random.default_rng(0))
    assert 400 < winners.sum() < 600


def test_tournament_favours_the_better_half():
    rng = np.random.default_rng(0)
    f = np.arange(100.0)
    winners = tournament(np.zeros(100), f, 10_000, rng)
    # binary tournament: rank r (of n) wins with probability about 2 (n - r) / n^2; the best half ~ 3/4
    assert 0.72 < (winners < 50).mean() < 0.78
    assert 99 not in winners  # the worst loses every duel


def test_ranked_puts_violations_first_then_objective():
    np.testing.assert_array_equal(ranked(np.array([1.0, 0, 0, 0]), np.array([0.0, 5, 3, 3])), [2, 3, 1, 0])


def test_repair_clips_rounds_and_unsigns_zero():
    X = repair(np.array([[12.6, -0.3, 0.25, -0.0]]), MIXED)
    np.testing.assert_array_equal(X, [[12, 0, 0.2, 0]])
    assert not np.signbit(X).any()


def test_novel_drops_rows_seen_or_repeated():
    seen = np.array([[1.0, 1.0]])
    X = np.array([[0.0, 1.0], [0.0, 1.0], [-0.0, 2.0], [1.0, 1.0], [0.0, 2.0], [2.0, 0.0]])
    np.testing.assert_array_equal(novel(X, seen), [True, False, True, False, False, True])


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 3), st.integers(0, 3)), min_size=1, max_size=30), st.integers(0, 10))
def test_novel_matches_a_set_of_rows(rows, n_seen):
    data = np.array(rows, dtype=float)
    seen, X = data[:n_seen], data[n_seen:]
    keep = novel(X, seen)
    expected, known = [], {tuple(r) for r in seen}
    for r in map(tuple, X):
        expected.append(r not in known)
        known.add(r)
    np.testing.assert_array_equal(keep, expected)


def breeder(crossover: float = 0.5, mutation: float = 0.2) -> Breeder:
    return Breeder(MIXED, crossover, mutation, 0.25, 5.0, lambda X: repair(X, MIXED))


def test_breeder_returns_only_new_rows():
    rng = np.random.default_rng(1)
    X = repair(rng.random((40, 4)) * MIXED.hi, MIXED)
    cv, f = np.zeros(40), rng.random(40)
    kids = breeder().offspring(X, cv, f, 40, rng)
    assert kids.shape == (40, 4)
    assert novel(kids, X).all()


def test_breeder_makes_only_crossed_or_mutated_children():
    rng = np.random.default_rng(2)
    X = repair(rng.random((400, 4)) * MIXED.hi, MIXED)
    kids = breeder().children(X, np.zeros(400), rng.random(400), 5000, rng)
    # a child is made if its pair was crossed (1/2) or it was mutated (0.2): 1 - 0.5 * 0.8 = 0.6
    assert 0.57 < len(kids) / 10_000 < 0.63
    assert breeder(crossover=0.0, mutation=0.0).children(X, np.zeros(400), rng.random(400), 100, rng).shape == (0, 4)


def test_breeder_learns_the_rate_of_new_rows():
    rng = np.random.default_rng(2)
    X = repair(rng.random((400, 4)) * MIXED.hi, MIXED)
    b = breeder()
    b.offspring(X, np.zeros(400), rng.random(400), 400, rng)
    # new rows per child slot: at most the 0.6 that are made
    assert 0.4 < b.novel_rate <= 0.6


def test_breeder_gives_up_on_a_population_without_variation():
    X = np.tile([[3.0, 5.0, 0.1, 0.1]], (10, 1))[:1]
    b = breeder(crossover=1.0, mutation=0.0)  # SBX of identical parents copies them: nothing new
    kids = b.offspring(X, np.zeros(1), np.zeros(1), 10, np.random.default_rng(0))
    assert len(kids) == 0 and b.novel_rate == 0.0  # after MAX_MATING_PASSES passes at the floor rate
