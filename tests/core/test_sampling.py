"""Samplers: top, sampled top-k with softmax weights (footnote 12), top-1 + sampled; seeded draws."""

import numpy as np
import pytest

from st_hardneg import Sampler


def noise(shape, seed=0):
    """Standard Gumbel draws, as the selection passes them (there keyed by row and document)."""
    return np.random.default_rng(seed).gumbel(size=shape)


KEEP = np.array([[True, False, True, True, True, True], [False, False, True, False, False, False]])
SCORES = np.array([[0.9, 0.8, 0.7, 0.6, 0.5, 0.4]] * 2)


def test_top_takes_the_first_survivors_in_rank_order():
    picks = Sampler("top").pick(KEEP, SCORES, 3)
    assert picks.tolist() == [[0, 2, 3], [2, -1, -1]]


def test_sampled_draws_only_from_the_top_sample_from_survivors():
    keep = np.ones((5000, 6), dtype=bool)
    scores = np.tile(np.linspace(0.9, 0.4, 6), (5000, 1))
    picks = Sampler("sampled", sample_from=4).pick(keep, scores, 2, noise(keep.shape))
    assert picks.min() >= 0 and picks.max() <= 3
    assert (picks[:, 0] < picks[:, 1]).all()  # returned hardest first, no repeats
    assert set(np.unique(picks)) == {0, 1, 2, 3}


def test_softmax_weights_match_the_hand_computed_distribution():
    # One draw from scores (1, 0, -1) at temperature 1: softmax = e^s / (e + 1 + 1/e)
    e = np.e
    p = np.array([e, 1, 1 / e]) / (e + 1 + 1 / e)  # 0.6652, 0.2447, 0.0900
    n = 40000
    keep = np.ones((n, 3), bool)
    scores = np.tile([1.0, 0.0, -1.0], (n, 1))
    picks = Sampler("sampled", sample_from=3).pick(keep, scores, 1, noise(keep.shape, 1))
    freq = np.bincount(picks[:, 0], minlength=3) / n
    np.testing.assert_allclose(freq, p, atol=0.01)

    # Two draws without replacement: P(i chosen) = p_i + sum_{j != i} p_j * p_i / (1 - p_j)
    incl = np.array([p[i] + sum(p[j] * p[i] / (1 - p[j]) for j in range(3) if j != i) for i in range(3)])
    picks = Sampler("sampled", sample_from=3).pick(keep, scores, 2, noise(keep.shape, 2))
    freq = np.bincount(picks.ravel(), minlength=3) / n
    np.testing.assert_allclose(freq, incl, atol=0.012)


def test_temperature_sharpens_and_uniform_flattens():
    n = 20000
    keep = np.ones((n, 2), bool)
    scores = np.tile([1.0, 0.0], (n, 1))
    hot = Sampler("sampled", sample_from=2, temperature=0.25).pick(keep, scores, 1, noise(keep.shape, 3))
    # softmax(4, 0) = 1 / (1 + e^-4) = 0.982
    assert np.mean(hot[:, 0] == 0) == pytest.approx(1 / (1 + np.exp(-4)), abs=0.01)
    flat = Sampler("sampled", sample_from=2, weighting="uniform").pick(keep, scores, 1, noise(keep.shape, 4))
    assert np.mean(flat[:, 0] == 0) == pytest.approx(0.5, abs=0.015)


def test_top1_sampled_always_keeps_the_top_survivor():
    keep = np.tile(KEEP[:1], (2000, 1))
    scores = np.tile(SCORES[:1], (2000, 1))
    picks = Sampler("top1_sampled", sample_from=4).pick(keep, scores, 3, noise(keep.shape))
    assert (picks[:, 0] == 0).all()  # first survivor is column 0
    # the others come from survivors ranked 2..4, i.e. columns 2, 3, 4
    assert set(np.unique(picks[:, 1:])) == {2, 3, 4}


def test_rows_with_few_survivors_are_padded():
    picks = Sampler("sampled", sample_from=5).pick(KEEP, SCORES, 3, noise(KEEP.shape))
    assert picks[1].tolist() == [2, -1, -1]
    picks = Sampler("top1_sampled", sample_from=5).pick(KEEP, SCORES, 3, noise(KEEP.shape))
    assert picks[1].tolist() == [2, -1, -1]


def test_same_noise_same_draws_different_noise_different_draws():
    keep = np.ones((200, 10), bool)
    scores = np.random.default_rng(9).random((200, 10))
    a = Sampler("sampled").pick(keep, scores, 4, noise(keep.shape, 7))
    b = Sampler("sampled").pick(keep, scores, 4, noise(keep.shape, 7))
    c = Sampler("sampled").pick(keep, scores, 4, noise(keep.shape, 8))
    assert (a == b).all() and not (a == c).all()


def test_sampled_strategies_need_noise():
    with pytest.raises(ValueError, match="Gumbel noise"):
        Sampler("sampled").pick(KEEP, SCORES, 2)


def test_invalid_sampler_settings_raise():
    from st_hardneg.settings import SelectionSettings

    with pytest.raises(ValueError, match="sample_from"):
        SelectionSettings(sampling="sampled", sample_from=3, num_negatives=4)
    with pytest.raises(ValueError, match="sampling"):
        Sampler("random")
    with pytest.raises(ValueError, match="temperature"):
        Sampler("sampled", temperature=0)


# ------------------------------------------------------------------------------------------------------- SimANS
def test_simans_weights_match_the_hand_computed_distribution():
    # Scores (.9, .5, .1), positive .6, a = 2, b = 0: log-weights -2 (s - .6)^2 = -.18, -.02, -.5;
    # weights e^-.18 = .8353, e^-.02 = .9802, e^-.5 = .6065 -> p = .3449, .4047, .2504 (the middle one, nearest
    # the positive, is the likeliest: SimANS's "ambiguous" negatives).
    w = np.exp([-0.18, -0.02, -0.5])
    p = w / w.sum()
    n = 40000
    keep = np.ones((n, 3), bool)
    scores = np.tile([0.9, 0.5, 0.1], (n, 1))
    sampler = Sampler("simans", simans_a=2.0, simans_b=0.0)
    picks = sampler.pick(keep, scores, 1, noise(keep.shape, 11), np.full(n, 0.6))
    np.testing.assert_allclose(np.bincount(picks[:, 0], minlength=3) / n, p, atol=0.01)
    # Two distinct negatives, successive sampling without replacement (the authors draw until k are distinct).
    incl = np.array([p[i] + sum(p[j] * p[i] / (1 - p[j]) for j in range(3) if j != i) for i in range(3)])
    picks = sampler.pick(keep, scores, 2, noise(keep.shape, 12), np.full(n, 0.6))
    assert (picks[:, 0] != picks[:, 1]).all()
    np.testing.assert_allclose(np.bincount(picks.ravel(), minlength=3) / n, incl, atol=0.012)


def test_simans_b_moves_the_peak_below_the_positive():
    # b = .4 (the authors' sign: (s - s_pos + b)^2): the peak is at .6 - .4 = .2, so the candidate scoring .1 is the
    # likeliest: log-weights -2 (.7^2, .3^2, .1^2) = -.98, -.18, -.02.
    w = np.exp([-0.98, -0.18, -0.02])
    n = 40000
    keep = np.ones((n, 3), bool)
    picks = Sampler("simans", simans_a=2.0, simans_b=0.4).pick(
        keep, np.tile([0.9, 0.5, 0.1], (n, 1)), 1, noise(keep.shape, 13), np.full(n, 0.6)
    )
    np.testing.assert_allclose(np.bincount(picks[:, 0], minlength=3) / n, w / w.sum(), atol=0.01)


def test_simans_draws_from_every_survivor_and_only_from_survivors():
    keep = np.ones((3000, 30), bool)
    keep[:, ::3] = False  # the method removed every third candidate
    scores = np.tile(np.linspace(0.9, 0.0, 30), (3000, 1))
    picks = Sampler("simans", sample_from=5, simans_a=0.0).pick(keep, scores, 4, noise(keep.shape, 14), np.zeros(3000))
    chosen = np.unique(picks)
    assert chosen.min() >= 0 and not np.isin(chosen, np.arange(0, 30, 3)).any()
    assert chosen.max() > 10  # sample_from does not limit SimANS (a = 0: uniform over all 20 survivors)
    with pytest.raises(ValueError, match="positive scores"):
        Sampler("simans").pick(keep[:1], scores[:1], 1, noise((1, 30)))


def test_simans_in_a_selection_is_recorded_and_seeded():
    from tests.core.test_selection import hand_pool

    kw = dict(method="naive-topk", num_negatives=2, sampling="simans", simans_a=3.0, simans_b=0.1, show_progress=False)
    a = hand_pool().select(seed=1, return_statistics=True, **kw)
    assert a.config["settings"]["sampling"] == "simans"
    assert a.settings.sampler.to_dict() == {"strategy": "simans", "simans_a": 3.0, "simans_b": 0.1}
    assert hand_pool().select(seed=1, **kw).to_list() == a.dataset.to_list()
