"""save_for_hub: the folder round-trips through datasets.load_dataset and DatasetCard.load, configurations and
splits as asked, nothing the user owns overwritten."""

import json

import datasets
import pytest
from huggingface_hub import DatasetCard

from st_hardneg.hub import save_for_hub
from st_hardneg.hub.layout import data_dir


def _select(pool, method, **kwargs):
    return pool.select(method, show_progress=False, return_statistics=True, **kwargs)


def test_several_selections_become_configurations_that_load_back(bm25_pool, tmp_path):
    percpos = _select(bm25_pool, "topk-percpos:0.95", num_negatives=2, output_scores=True)
    naive = _select(bm25_pool, "naive-topk", num_negatives=3, output_format="triplet")
    files = save_for_hub([percpos, naive], tmp_path / "out", pool=bm25_pool, show_progress=False)

    assert "topk-percpos-0.95/train-00000-of-00001.parquet" in files
    assert "naive-topk/train-00000-of-00001.parquet" in files
    for config, selection in (("topk-percpos-0.95", percpos), ("naive-topk", naive)):
        loaded = datasets.load_dataset(str(tmp_path / "out"), config, split="train")
        assert loaded.column_names == selection.dataset.column_names
        assert loaded.to_list() == selection.dataset.to_list()
    # the first configuration given is the default one: load_dataset(repo) without a name works
    assert datasets.load_dataset(str(tmp_path / "out"), split="train").to_list() == percpos.dataset.to_list()

    card = DatasetCard.load(tmp_path / "out" / "README.md")
    meta = card.data.to_dict()
    assert {c["config_name"] for c in meta["configs"]} == {"topk-percpos-0.95", "naive-topk"}
    assert meta["task_categories"] == ["sentence-similarity", "feature-extraction"]
    assert {"sentence-transformers", "hard-negatives"} <= set(meta["tags"])
    assert meta["size_categories"] == ["n<1K"] and meta["license"] == "apache-2.0"  # the example is the project's
    record = meta["st_hardneg"]["configurations"]["naive-topk"]["train"]
    assert record["mining"]["selection"]["output_format"] == "triplet"
    assert record["statistics"]["rows_out"] == naive.statistics.rows_out
    assert sorted(meta["st_hardneg"]["files"]) == files


def test_splits_and_shards_follow_the_datasets_layout(bm25_pool, tmp_path):
    train = _select(bm25_pool, "topk-marginpos:0.5", num_negatives=2)
    dev = _select(bm25_pool, "topk-marginpos:0.5", num_negatives=2, seed=9)
    files = save_for_hub(
        {"margin": {"train": train, "dev": dev}}, tmp_path / "out", max_shard_size=4_000, show_progress=False
    )
    shards = [f for f in files if f.startswith("margin/train-")]
    assert len(shards) > 1 and shards[0] == f"margin/train-00000-of-{len(shards):05d}.parquet"  # as push_to_hub
    loaded = datasets.load_dataset(str(tmp_path / "out"), "margin")
    assert set(loaded) == {"train", "dev"}
    assert loaded["train"].to_list() == train.dataset.to_list()
    assert loaded["dev"].to_list() == dev.dataset.to_list()
    document = json.loads((tmp_path / "out" / "mining_config.json").read_text())
    assert document["configurations"]["margin"]["dev"]["selection"]["seed"] == 9


def test_a_plain_dataset_and_a_dataset_dict_are_saved_without_a_mining_record(tmp_path):
    ds = datasets.Dataset.from_dict({"anchor": ["a", "b"], "positive": ["p", "q"], "negative": ["n", "m"]})
    save_for_hub(datasets.DatasetDict({"train": ds, "test": ds.select([0])}), tmp_path / "out", show_progress=False)
    assert data_dir("default") == "data"
    assert (tmp_path / "out" / "data" / "test-00000-of-00001.parquet").is_file()
    assert datasets.load_dataset(str(tmp_path / "out"), split="test").to_list() == ds.select([0]).to_list()
    card = DatasetCard.load(tmp_path / "out" / "README.md")
    assert card.data.license == "unknown" and "license applies" in card.text
    assert "no mining configuration" in card.text


@pytest.mark.parametrize(
    ("sets", "kwargs", "error", "message"),
    [
        ("list-of-datasets", {}, TypeError, "give datasets names with a dict"),
        ("same-method-twice", {}, ValueError, "given twice"),
        ("bad-config", {}, ValueError, "configuration name 'a b'"),
        ("selection", {"split": "train-1"}, ValueError, "split name 'train-1'"),
        ("selection", {"config_name": "data"}, ValueError, "not 'data'"),
        ("nothing", {}, ValueError, "nothing to save"),
    ],
)
def test_bad_names_and_shapes_fail_before_anything_is_written(bm25_pool, tmp_path, sets, kwargs, error, message):
    sel = _select(bm25_pool, "naive-topk", num_negatives=1)
    value = {
        "list-of-datasets": [sel.dataset],
        "same-method-twice": [sel, sel],
        "bad-config": {"a b": sel},
        "selection": sel,
        "nothing": {},
    }[sets]
    with pytest.raises(error, match=message.replace("(", r"\(")):
        save_for_hub(value, tmp_path / "out", **kwargs)
    assert not (tmp_path / "out").exists()


def test_an_existing_folder_is_replaced_only_with_overwrite_and_only_if_it_is_a_previous_save(bm25_pool, tmp_path):
    sel = _select(bm25_pool, "naive-topk", num_negatives=1)
    out = tmp_path / "out"
    save_for_hub(sel, out, plots=False, show_progress=False)
    with pytest.raises(FileExistsError, match="overwrite=True"):
        save_for_hub(sel, out, plots=False, show_progress=False)
    save_for_hub(sel, out, plots=False, overwrite=True, show_progress=False)
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me")
    with pytest.raises(FileExistsError, match="does not delete other files"):
        save_for_hub(sel, mine, overwrite=True)
    assert (mine / "notes.txt").read_text() == "keep me"
