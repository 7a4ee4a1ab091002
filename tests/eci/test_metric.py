"""ECI as an evaluate metric: evaluate.load(metric_path()) loads offline and gives compute_eci's numbers."""

import evaluate
import pytest

from st_hardneg import CandidatePool
from st_hardneg.data import load_default
from st_hardneg.eci import compute_eci, metric_path, scores_for_metric


@pytest.fixture(scope="module")
def metric():
    return evaluate.load(metric_path())


@pytest.fixture(scope="module")
def pool():
    pairs, corpus = load_default()
    return CandidatePool.build(pairs, "bm25", corpus=corpus, depth=20, show_progress=False)


@pytest.mark.parametrize("output_format", ["n-tuple", "triplet", "labeled-list"])
@pytest.mark.parametrize("options", [{}, {"top_n": 2}, {"clamp": "per_query", "temperature": 0.1}])
def test_the_metric_gives_the_numbers_of_compute_eci(metric, pool, output_format, options):
    mined = pool.select(num_negatives=3, output_format=output_format, output_scores=True, show_progress=False)
    expected = compute_eci(mined, show_progress=False, **options).to_dict()
    result = metric.compute(**scores_for_metric(mined), **options)
    assert result == expected


def test_the_metric_checks_its_options_like_compute_eci(metric):
    with pytest.raises(ValueError, match="clamp must be one of 'aggregate', 'per_query'"):
        metric.compute(positive_scores=[[0.9]], negative_scores=[[0.5]], clamp="per-query")


def test_the_paper_example_through_the_metric(metric):
    # Two queries: S_n = mean(0.4, 0.4) = 0.4; Max-Margin = mean(0.9-0.5, 0.8-0.6) = 0.3;
    # ECI = ln(3) * 2 * 0.4 * 0.3 / 0.7 = 0.3767
    result = metric.compute(positive_scores=[[0.9], [0.8]], negative_scores=[[0.5, 0.3], [0.6, 0.2]])
    assert result["eci"] == pytest.approx(1.0986123 * 0.24 / 0.7, abs=1e-6)
    assert result["num_queries"] == 2
