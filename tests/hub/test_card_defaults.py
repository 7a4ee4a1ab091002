"""Cards from the Python API: the source and license as arguments (or from the ``datasets`` info), and an ECI
section from the pool's teacher scores when the set has no ``scores`` column."""

from __future__ import annotations

import logging

import datasets
import pytest
from huggingface_hub import DatasetCard

from st_hardneg import CandidatePool
from st_hardneg.eci import eci_from_scores
from st_hardneg.hub import push_to_hub, save_for_hub

ECI_HEADING = "## Effective Contrastive Information"


@pytest.fixture(scope="module")
def unrecorded_pool(default_data):
    """A pool built from Python: nothing sets ``pool.config["source"]`` (the command would)."""
    pairs, corpus = default_data
    pool = CandidatePool.build(pairs, "bm25", corpus=corpus, depth=20, seed=4, show_progress=False)
    assert pool.config.get("source") is None
    return pool


def _select(pool, num_negatives=2, **kwargs):
    return pool.select("topk-percpos:0.95", num_negatives=num_negatives, seed=1, show_progress=False, **kwargs)


def _title(text: str) -> str:
    return next(line for line in text.splitlines() if line.startswith("# "))


def _eci_by_hand(scored: datasets.Dataset) -> float:
    """ECI of an n-tuple set from its ``scores`` column ([positive, negatives...]), grouped by anchor by hand:
    each anchor's distinct positives and negatives (by text) and their scores."""
    negative_columns = [c for c in scored.column_names if c.startswith("negative")]
    positives: dict[str, dict[str, float]] = {}
    negatives: dict[str, dict[str, float]] = {}
    for row in scored:
        positives.setdefault(row["anchor"], {}).setdefault(row["positive"], row["scores"][0])
        for column, score in zip(negative_columns, row["scores"][1:], strict=True):
            negatives.setdefault(row["anchor"], {}).setdefault(row[column], score)
    anchors = list(positives)
    report = eci_from_scores(
        [list(positives[a].values()) for a in anchors], [list(negatives[a].values()) for a in anchors]
    )
    return report.eci


def test_source_and_license_arguments_name_the_data_in_the_card(unrecorded_pool, tmp_path):
    selection = _select(unrecorded_pool, return_statistics=True)
    save_for_hub(selection, tmp_path / "bare", pool=unrecorded_pool, plots=False, show_progress=False)
    bare = DatasetCard.load(tmp_path / "bare" / "README.md")
    assert "(not recorded)" in _title(bare.text) and bare.data.license == "unknown"  # what the arguments fix

    save_for_hub(
        selection,
        tmp_path / "out",
        pool=unrecorded_pool,
        source="BeIR/scifact",
        license="cc-by-sa-4.0",
        plots=False,
        show_progress=False,
    )
    card = DatasetCard.load(tmp_path / "out" / "README.md")
    assert _title(card.text) == "# Hard negatives for BeIR/scifact (topk-percpos:0.95)"
    assert card.data.license == "cc-by-sa-4.0" and card.data.source_datasets == ["BeIR/scifact"]
    assert "not recorded" not in card.text and "License: `cc-by-sa-4.0`." in card.text
    assert unrecorded_pool.config.get("source") is None  # the pool itself is left alone


def test_push_to_hub_and_the_pool_push_take_them_too(unrecorded_pool, hub):
    selection = _select(unrecorded_pool, return_statistics=True)
    push_to_hub(selection, "user/set", api=hub, source="BeIR/scifact", license="cc-by-sa-4.0", show_progress=False)
    card = DatasetCard(hub.files("user/set")["README.md"].decode())
    assert _title(card.text).startswith("# Hard negatives for BeIR/scifact")
    assert card.data.license == "cc-by-sa-4.0"
    unrecorded_pool.push_to_hub("user/pool", api=hub, source="BeIR/scifact", license="cc-by-sa-4.0")
    pool_card = DatasetCard(hub.files("user/pool")["README.md"].decode())
    assert _title(pool_card.text) == "# Candidate pool for BeIR/scifact" and pool_card.data.license == "cc-by-sa-4.0"


def test_without_arguments_the_datasets_info_names_the_source_and_license(tmp_path):
    info = datasets.DatasetInfo(dataset_name="scifact-pairs", license="cc-by-4.0", description="SciFact claims")
    mined = datasets.Dataset.from_dict(
        {"anchor": ["a", "b"], "positive": ["p", "q"], "negative": ["n", "m"]}, info=info
    ).map(lambda batch: batch, batched=True)  # as pairs.map(miner) returns it: the info is kept
    save_for_hub(mined, tmp_path / "out", show_progress=False)
    card = DatasetCard.load(tmp_path / "out" / "README.md")
    assert _title(card.text) == "# Hard negatives for scifact-pairs"
    assert card.data.license == "cc-by-4.0" and "License: `cc-by-4.0`." in card.text
    # an argument comes first
    save_for_hub(mined, tmp_path / "given", license="mit", pretty_name="Mine", show_progress=False)
    given = DatasetCard.load(tmp_path / "given" / "README.md")
    assert given.data.license == "mit" and _title(given.text) == "# Mine"


def test_a_set_without_scores_gets_eci_from_the_pools_teacher_scores(unrecorded_pool, tmp_path):
    selection = _select(unrecorded_pool, return_statistics=True)
    assert "scores" not in selection.dataset.column_names
    history = list(unrecorded_pool.history)
    save_for_hub(selection, tmp_path / "out", pool=unrecorded_pool, plots=False, show_progress=False)
    assert unrecorded_pool.history == history

    # the same selection with the teacher's scores written out; ECI of those scores, grouped here by hand
    scored = _select(unrecorded_pool, output_scores=True)
    unrecorded_pool.history[:] = history
    assert scored.remove_columns("scores").to_list() == selection.dataset.to_list()
    expected = _eci_by_hand(scored)

    card = DatasetCard.load(tmp_path / "out" / "README.md")
    assert ECI_HEADING in card.text
    section = card.text[card.text.index(ECI_HEADING) :]
    assert f"| {expected:.3f} |" in section and "the teacher's scores held in the pool (`bm25`)" in section
    recorded = card.data.to_dict()["st_hardneg"]["configurations"]["default"]["train"]["eci"]["eci"]
    assert recorded == pytest.approx(expected, rel=1e-9)


def test_no_eci_without_a_pool_or_from_another_pool(unrecorded_pool, bm25_pool, tmp_path, caplog):
    selection = _select(unrecorded_pool, return_statistics=True)
    save_for_hub(selection, tmp_path / "none", plots=False, show_progress=False)
    assert ECI_HEADING not in (tmp_path / "none" / "README.md").read_text()
    with caplog.at_level(logging.WARNING, logger="st_hardneg.hub"):
        save_for_hub(selection, tmp_path / "other", pool=bm25_pool, plots=False, show_progress=False)
    assert ECI_HEADING not in (tmp_path / "other" / "README.md").read_text()
    assert "not selected from the pool given" in caplog.text


def test_deeper_and_filled_negatives_are_looked_up_too(unrecorded_pool, tmp_path):
    """Negatives found by searching deeper (not kept by the pool) and random fill documents have scores too."""
    selection = _select(unrecorded_pool, return_statistics=True, num_negatives=8, on_short="deepen")
    assert selection.statistics.rows_deepened > 0 and selection.statistics.negatives_filled > 0
    history = list(unrecorded_pool.history)
    save_for_hub(selection, tmp_path / "out", pool=unrecorded_pool, plots=False, show_progress=False)
    scored = _select(unrecorded_pool, output_scores=True, num_negatives=8, on_short="deepen")
    unrecorded_pool.history[:] = history
    assert scored.remove_columns("scores").to_list() == selection.dataset.to_list()
    card = DatasetCard.load(tmp_path / "out" / "README.md")
    recorded = card.data.to_dict()["st_hardneg"]["configurations"]["default"]["train"]["eci"]["eci"]
    assert recorded == pytest.approx(_eci_by_hand(scored), rel=1e-9)


def test_a_pair_the_teacher_never_scored_leaves_the_card_without_eci(unrecorded_pool, tmp_path, caplog):
    selection = _select(unrecorded_pool, return_statistics=True)
    tc = unrecorded_pool.teachers["bm25"]
    q = int(unrecorded_pool.row_query[0])
    scored = {*tc.candidates[q].tolist(), *tc.random_candidates[q].tolist(), *unrecorded_pool.row_positive.tolist()}
    unscored = next(d for d in range(len(unrecorded_pool.corpus)) if d not in scored)
    anchor = unrecorded_pool.queries[q].as_py()
    text = unrecorded_pool.corpus[unscored].as_py()
    rows = selection.dataset.to_list()
    row = next(r for r in rows if r["anchor"] == anchor)
    row["negative_1"] = text
    changed = type(selection)(
        datasets.Dataset.from_list(rows), selection.statistics, selection.settings, selection.context
    )
    with caplog.at_level(logging.WARNING, logger="st_hardneg.hub"):
        save_for_hub(changed, tmp_path / "out", pool=unrecorded_pool, plots=False, show_progress=False)
    assert ECI_HEADING not in (tmp_path / "out" / "README.md").read_text()
    assert "teacher 'bm25' never scored 1 of its (anchor, negative) pairs" in caplog.text
