"""mining_config.json: it reloads into the same settings, and mining again with it gives the same rows."""

import json

import pytest
from datasets import Dataset

from st_hardneg.hub import MiningConfig, load_mining_config, save_for_hub
from st_hardneg.settings import PoolSettings, SelectionSettings


@pytest.fixture(scope="module")
def saved(bm25_pool, tmp_path_factory):
    sampled = bm25_pool.select(
        "topk-percpos:0.9",
        num_negatives=3,
        sampling="sampled",
        sample_from=5,
        temperature=0.5,
        seed=11,
        show_progress=False,
        return_statistics=True,
    )
    labeled = bm25_pool.select(
        "topk-shifted:2", num_negatives=2, output_format="labeled-list", show_progress=False, return_statistics=True
    )
    folder = tmp_path_factory.mktemp("config") / "repo"
    save_for_hub({"sampled": sampled, "labeled": labeled}, folder, plots=False, show_progress=False)
    return folder, {"sampled": sampled, "labeled": labeled}


def test_the_config_reloads_into_the_settings_objects(saved, bm25_pool):
    folder, selections = saved
    config = load_mining_config(folder, "sampled")
    assert config.selection_settings == SelectionSettings(
        method="topk-percpos:0.9", num_negatives=3, sampling="sampled", sample_from=5, temperature=0.5, seed=11,
        teacher="bm25",
    )  # fmt: skip
    assert config.pool_settings == PoolSettings(depth=20, seed=3, anchor_column="anchor", positive_column="positive")
    assert config.teacher == bm25_pool.config["teachers"]["bm25"]
    assert config.source.kind == "default"
    assert config.dataset_fingerprint == bm25_pool.config["dataset_fingerprint"]
    assert config.corpus_fingerprint == bm25_pool.config["corpus_fingerprint"]
    document = json.loads((folder / "mining_config.json").read_text())
    assert {"python", "st-hardneg", "sentence-transformers", "datasets", "bm25s"} <= set(document["library_versions"])
    assert MiningConfig.from_dict(config.to_dict()) == config


@pytest.mark.parametrize("name", ["sampled", "labeled"])
def test_mining_again_with_the_config_gives_the_same_rows(saved, default_data, name):
    folder, selections = saved
    pairs, corpus = default_data
    config = load_mining_config(folder, name, "train")
    again = config.mine(pairs, corpus=corpus, show_progress=False, return_statistics=True)
    assert again.dataset.to_list() == selections[name].dataset.to_list()
    assert again.statistics.to_dict() == selections[name].statistics.to_dict()
    # Without return_statistics, the same rows as a datasets.Dataset: what mine_hard_negatives returns.
    dataset = config.mine(pairs, corpus=corpus, show_progress=False)
    assert isinstance(dataset, Dataset)
    assert dataset.to_list() == selections[name].dataset.to_list()


def test_other_data_is_refused_before_any_teacher_runs(saved, default_data, monkeypatch):
    folder, _ = saved
    pairs, corpus = default_data
    config = load_mining_config(folder, "sampled")

    def no_teacher(self):
        raise AssertionError("the teacher was built before the inputs were checked")

    monkeypatch.setattr(MiningConfig, "make_teacher", no_teacher)
    with pytest.raises(ValueError, match="not the ones the set was mined from"):
        config.mine(pairs.select(range(60)), corpus=corpus)
    with pytest.raises(ValueError, match="this corpus is not the one"):
        config.mine(pairs, corpus=corpus[:-3])
    with pytest.raises(ValueError, match="mined with a corpus"):
        config.mine(pairs)


def test_asking_for_a_missing_configuration_names_the_ones_there(saved):
    folder, _ = saved
    with pytest.raises(ValueError, match=r"several configurations: \['labeled', 'sampled'\]"):
        load_mining_config(folder)
    with pytest.raises(ValueError, match="no configuration named 'x'"):
        load_mining_config(folder, "x")
    with pytest.raises(ValueError, match="no split of 'labeled' named 'dev'"):
        load_mining_config(folder, "labeled", "dev")


def test_the_config_is_read_from_a_hub_repository(saved, hub):
    folder, _ = saved
    hub.put("user/set", "mining_config.json", (folder / "mining_config.json").read_bytes())
    config = load_mining_config("user/set", "labeled", api=hub)
    assert config.selection_settings.output_format == "labeled-list"
