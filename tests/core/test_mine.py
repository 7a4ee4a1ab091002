"""mine_hard_negatives and HardNegativeMiner end to end with the real all-MiniLM-L6-v2."""

import numpy as np
import pytest

from st_hardneg import HardNegativeMiner, TopKPercPos, mine_hard_negatives
from st_hardneg.data import load_default


@pytest.fixture(scope="module")
def default_data():
    return load_default()


def test_mined_negatives_obey_the_bound_under_independent_scoring(minilm, default_data):
    pairs, corpus = default_data
    mined = mine_hard_negatives(
        pairs,
        minilm,
        corpus=corpus,
        method=TopKPercPos(0.95),
        num_negatives=3,
        output_format="n-tuple",
        seed=0,
        show_progress=False,
    )
    assert mined.column_names == ["anchor", "positive", "negative_1", "negative_2", "negative_3"]
    a = minilm.encode(mined["anchor"], normalize_embeddings=True)
    p = minilm.encode(mined["positive"], normalize_embeddings=True)
    pos = np.einsum("ij,ij->i", a, p)
    positives_of = {}
    for anchor, positive in zip(pairs["anchor"], pairs["positive"]):
        positives_of.setdefault(anchor, set()).add(positive)
    for j in (1, 2, 3):
        n = minilm.encode(mined[f"negative_{j}"], normalize_embeddings=True)
        assert (np.einsum("ij,ij->i", a, n) <= 0.95 * pos + 1e-4).all()
        assert not any(neg in positives_of[anc] for anc, neg in zip(mined["anchor"], mined[f"negative_{j}"]))


@pytest.mark.slow
def test_mined_dataset_trains_one_step_with_mnrl(minilm_path_model, default_data, tmp_path):
    from sentence_transformers import SentenceTransformerTrainer, SentenceTransformerTrainingArguments
    from sentence_transformers.sentence_transformer.losses import MultipleNegativesRankingLoss

    model = minilm_path_model
    pairs, corpus = default_data
    mined = mine_hard_negatives(pairs, model, corpus=corpus, num_negatives=2, seed=0, show_progress=False)
    before = next(model.parameters()).detach().clone()
    args = SentenceTransformerTrainingArguments(
        output_dir=str(tmp_path),
        max_steps=1,
        per_device_train_batch_size=8,
        report_to=[],
        save_strategy="no",
        use_cpu=True,
    )
    trainer = SentenceTransformerTrainer(
        model=model, args=args, train_dataset=mined.select(range(16)), loss=MultipleNegativesRankingLoss(model)
    )
    trainer.train()
    assert trainer.state.global_step == 1
    assert np.isfinite(trainer.state.log_history[-1]["train_loss"])
    assert not np.allclose(before.numpy(), next(model.parameters()).detach().numpy())


@pytest.fixture
def minilm_path_model():
    from sentence_transformers import SentenceTransformer

    from tests.conftest import minilm_path

    return SentenceTransformer(minilm_path(), device="cpu")  # a fresh copy: training changes it


def test_dataset_map_with_the_miner(minilm, default_data):
    pairs, corpus = default_data
    paper = dict(method=TopKPercPos(0.95), num_negatives=2, output_format="n-tuple", seed=0)
    miner = HardNegativeMiner(minilm, corpus=corpus, **paper)
    mapped = pairs.map(miner, batched=True, batch_size=16)
    assert mapped.column_names == ["anchor", "positive", "negative_1", "negative_2"]
    assert len(mapped) == len(pairs)
    direct = mine_hard_negatives(pairs, minilm, corpus=corpus, depth=30, show_progress=False, **paper)
    # Same teacher, method and depth: rows whose anchor's positives all sit in one batch agree with direct mining.
    same = [m == d for m, d in zip(mapped["negative_1"], direct["negative_1"])]
    assert np.mean(same) > 0.9
    assert len(miner.history) == 4  # 63 rows in batches of 16


def test_miner_requires_positives_in_its_corpus(minilm, default_data):
    pairs, corpus = default_data
    miner = HardNegativeMiner("bm25", corpus=corpus[:10])
    with pytest.raises(ValueError, match="not in the miner's corpus"):
        pairs.map(miner, batched=True)


def test_triplet_map_needs_remove_columns(default_data):
    pairs, corpus = default_data
    miner = HardNegativeMiner("bm25", corpus=corpus, num_negatives=2, output_format="triplet", seed=0)
    mapped = pairs.map(miner, batched=True, remove_columns=pairs.column_names)
    assert mapped.column_names == ["anchor", "positive", "negative"]
    assert len(mapped) > len(pairs)


def test_miner_positives_mapping_protects_anchors_split_across_batches(default_data):
    pairs, corpus = default_data
    positives_of = {}
    for a, p in zip(pairs["anchor"], pairs["positive"]):
        positives_of.setdefault(a, []).append(p)

    def leaks(mapped):
        return sum(
            mapped[f"negative_{j}"][i] in positives_of[mapped["anchor"][i]] for i in range(len(mapped)) for j in (1, 2)
        )

    # batch_size=1: every row is its own batch, so an anchor's other positive is unknown to the batch
    paper = dict(method=TopKPercPos(0.95), num_negatives=2, output_format="n-tuple", seed=0)
    blind = pairs.map(HardNegativeMiner("bm25", corpus=corpus, **paper), batched=True, batch_size=1)
    assert leaks(blind) > 0
    miner = HardNegativeMiner("bm25", corpus=corpus, positives=positives_of, **paper)
    assert leaks(pairs.map(miner, batched=True, batch_size=1)) == 0


def test_the_miner_without_positives_warns_that_other_batches_positives_can_become_negatives(default_data):
    import warnings

    pairs, corpus = default_data
    with pytest.warns(UserWarning, match=r"without positives=.*false negatives.*positives=<the pairs dataset>"):
        blind = HardNegativeMiner("bm25", corpus=corpus, num_negatives=2, seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the explicit choices are silent at construction
        HardNegativeMiner("bm25", corpus=corpus, num_negatives=2, seed=0, positives=pairs)
        HardNegativeMiner("bm25", corpus=corpus, num_negatives=2, seed=0, positives="batch")
    with pytest.raises(ValueError, match='or "batch"'):
        HardNegativeMiner("bm25", corpus=corpus, positives="all")
    assert "positives=dataset" in HardNegativeMiner.__doc__.split("Args:")[0]  # said in the docstring's first lines
    assert blind.positives is None


def test_unbatched_map_gives_the_batched_rows(default_data):
    pairs, corpus = default_data
    paper = dict(method=TopKPercPos(0.95), num_negatives=2, output_format="n-tuple", seed=0)
    miner = HardNegativeMiner("bm25", corpus=corpus, positives=pairs, **paper)
    one_by_one = pairs.map(miner)
    assert one_by_one.column_names == ["anchor", "positive", "negative_1", "negative_2"]
    assert one_by_one.to_list() == pairs.map(miner, batched=True, batch_size=64).to_list()
    assert (
        one_by_one.to_list()
        == mine_hard_negatives(pairs, "bm25", corpus=corpus, show_progress=False, **paper).to_list()
    )
    triplets = HardNegativeMiner("bm25", corpus=corpus, num_negatives=2, output_format="triplet", positives=pairs)
    with pytest.raises(ValueError, match=r"gives 2 rows.*an unbatched map needs one row out per row in"):
        pairs.map(triplets)
