"""Score histograms (NV-Retriever Figure 1): what they draw is the set's own score distributions."""

import numpy as np
import pytest

from st_hardneg.hub import plot_score_histograms, score_distributions

pytest.importorskip("matplotlib")


@pytest.mark.parametrize("output_format", ["n-tuple", "triplet", "labeled-list"])
def test_distributions_from_stored_scores_match_the_selection_statistics(bm25_pool, output_format):
    selection = bm25_pool.select(
        num_negatives=3, output_format=output_format, output_scores=True, show_progress=False, return_statistics=True
    )
    from_stats = score_distributions(selection)
    from_rows = score_distributions(selection.dataset)  # only the dataset's `scores` column
    for key in ("negative", "margin") if output_format == "triplet" else ("positive", "negative", "margin"):
        a, b = from_stats[key], from_rows[key]
        assert a.count == b.count, key
        assert a.mean == pytest.approx(b.mean) and a.median == pytest.approx(b.median), key
        assert a.histogram["counts"] == b.histogram["counts"], key


def test_a_dataset_without_scores_has_no_distributions(bm25_pool):
    assert score_distributions(bm25_pool.select(num_negatives=2, show_progress=False)) is None


def test_the_figure_draws_the_histograms_of_each_set(bm25_pool):
    a = bm25_pool.select("naive-topk", num_negatives=2, show_progress=False, return_statistics=True)
    b = bm25_pool.select(num_negatives=2, show_progress=False, return_statistics=True)
    one = plot_score_histograms({"naive": score_distributions(a)})
    values, edges, _ = one.axes[1].patches[0].get_data()
    assert values.tolist() == a.statistics.negative_scores.histogram["counts"]
    assert edges.tolist() == pytest.approx(a.statistics.negative_scores.histogram["edges"])
    both = plot_score_histograms({"naive": score_distributions(a), "percpos": score_distributions(b)})
    margin_axis = both.axes[2]
    assert len(margin_axis.patches) == 2  # one outline per configuration
    density, edges, _ = margin_axis.patches[1].get_data()
    assert np.sum(density * np.diff(edges)) == pytest.approx(1.0)  # densities, so sets of any size compare
    assert [t.get_text() for t in both.axes[-1].get_legend().get_texts()] == ["naive", "percpos"]
