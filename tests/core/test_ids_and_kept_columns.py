"""Issue 18, items 1 and 2: ids in (a ``{id: text}`` corpus, a Dataset corpus with ids and titles, pairs with id
columns, the BEIR loader), ids out (``output_ids``), and input columns carried into the mined set
(``keep_columns``). Expected values are worked out by hand from the tiny inputs below."""

import datasets
import pytest

from st_hardneg import CandidatePool, mine_hard_negatives
from st_hardneg.hub import load_mining_config, save_for_hub

QUERIES = {"q1": "red apple fruit", "q2": "blue sky weather", "q3": "green grass lawn"}
CORPUS = {
    "d1": "an apple is a red fruit",
    "d2": "the sky is blue in fair weather",
    "d3": "grass on the lawn is green",
    "d4": "a red fruit apple pie",
    "d5": "weather of blue sky today",
    "d6": "lawn with green grass and apple",
    "d7": "sky apple weather grass",
}
QRELS = [("q1", "d1", "en"), ("q2", "d2", "fr"), ("q3", "d3", "de")]
FORMATS = ["n-tuple", "triplet", "labeled-pair", "labeled-list"]


def pairs_with_ids(**extra):
    return datasets.Dataset.from_dict(
        {
            "query_id": [q for q, _, _ in QRELS],
            "query": [QUERIES[q] for q, _, _ in QRELS],
            "corpus_id": [d for _, d, _ in QRELS],
            "passage": [CORPUS[d] for _, d, _ in QRELS],
            "lang": [lang for _, _, lang in QRELS],
            **extra,
        }
    )


def mine(fmt, corpus=CORPUS, **kwargs):
    return mine_hard_negatives(
        pairs_with_ids(), "bm25", corpus=corpus, method="naive-topk", num_negatives=2, output_format=fmt,
        show_progress=False, **kwargs,
    )  # fmt: skip


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_id_written_is_the_id_of_the_text_beside_it(fmt):
    mined = mine(fmt, output_ids=True)
    rows = mined.to_list()
    assert rows
    for row in rows:
        assert QUERIES[row["anchor_id"]] == row["query"]
        if fmt == "n-tuple":
            assert CORPUS[row["positive_id"]] == row["passage"]
            negatives = [CORPUS[row["negative_1_id"]], CORPUS[row["negative_2_id"]]]
            assert negatives == [row["negative_1"], row["negative_2"]]
        elif fmt == "triplet":
            assert (CORPUS[row["positive_id"]], CORPUS[row["negative_id"]]) == (row["passage"], row["negative"])
        elif fmt == "labeled-pair":  # the positive row has a positive id, a negative row a negative id
            assert (row["positive_id"] is None) == (row["label"] == 0) == (row["negative_id"] is not None)
            assert CORPUS[row["positive_id"] or row["negative_id"]] == row["passage"]
        else:  # labeled-list: positive_ids + negative_ids line up with the texts
            assert [CORPUS[i] for i in row["positive_ids"] + row["negative_ids"]] == row["passage"]
            assert len(row["positive_ids"]) == row["labels"].count(1)
    # the id columns come after the format's own columns: the text columns keep their positions
    assert mined.column_names.index("anchor_id") > mined.column_names.index("passage")


def test_a_dataset_corpus_with_ids_and_titles_is_joined_as_beir_does():
    corpus = datasets.Dataset.from_dict(
        {"_id": [1, 2, 3], "title": ["Apple", "", None], "text": ["a red fruit", "blue sky", "  green grass "]}
    )
    pairs = datasets.Dataset.from_dict({"anchor_id": ["q"], "anchor": ["red apple"], "positive": ["Apple a red fruit"]})
    pool = CandidatePool.build(pairs, "bm25", corpus=corpus, depth=2, num_random=0, show_progress=False)
    # title + " " + text, stripped; an empty or missing title leaves the text (stripped, as BEIR's evaluator does)
    assert pool.corpus.to_pylist() == ["Apple a red fruit", "blue sky", "green grass"]
    assert pool.input_columns.corpus_ids.to_pylist() == ["1", "2", "3"]  # ids are strings, as BEIR writes them
    assert pool.statistics.added_positives == 0


def test_a_text_under_two_ids_keeps_the_first_and_an_added_positive_keeps_its_rows_id():
    corpus = {"a": "t one", "b": "t two", "c": "t one"}
    pairs = {"anchor_id": ["x", "y"], "anchor": ["q one", "q two"], "positive_id": ["b", "z"],
             "positive": ["t two", "t three"]}  # fmt: skip
    pool = CandidatePool.build(pairs, "bm25", corpus=corpus, depth=1, num_random=0, show_progress=False)
    assert pool.corpus.to_pylist() == ["t one", "t two", "t three"]
    assert pool.input_columns.corpus_ids.to_pylist() == ["a", "b", "z"]


def test_output_ids_without_ids_is_refused_before_the_teacher_loads():
    no_model = "/nonexistent/model/folder"  # loading it would fail with another error
    with pytest.raises(ValueError, match="this corpus has none"):
        mine_hard_negatives(pairs_with_ids(), no_model, corpus=list(CORPUS.values()), output_ids=True)
    no_query_ids = pairs_with_ids().remove_columns("query_id")
    with pytest.raises(ValueError, match=r"no anchor id column \(query_id, anchor_id"):
        mine_hard_negatives(no_query_ids, no_model, corpus=CORPUS, output_ids=True)
    with pytest.raises(ValueError, match="positive id column"):
        mine_hard_negatives(pairs_with_ids().remove_columns("corpus_id"), no_model, output_ids=True)
    no_ids = pairs_with_ids().remove_columns(["query_id", "corpus_id"])
    pool = CandidatePool.build(no_ids, "bm25", corpus=list(CORPUS.values()), depth=3, show_progress=False)
    with pytest.raises(ValueError, match="built without ids"):
        pool.select(output_ids=True, num_negatives=1, show_progress=False)


def test_without_ids_asked_none_are_written_and_an_id_column_is_never_read_as_text():
    mined = mine("triplet")
    assert mined.column_names == ["query", "passage", "negative"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_kept_columns_follow_their_input_row_into_every_output_row(fmt):
    mined = mine(fmt, keep_columns=["lang", "query_id"])
    lang_of = {QUERIES[q]: lang for q, _, lang in QRELS}
    for row in mined.to_list():
        assert row["lang"] == lang_of[row["query"]]
        assert QUERIES[row["query_id"]] == row["query"]
    assert mined.column_names[-2:] == ["lang", "query_id"]
    expected_rows = {"n-tuple": 3, "triplet": 6, "labeled-pair": 9, "labeled-list": 3}[fmt]  # 3 rows x 2 negatives
    assert len(mined) == expected_rows


def test_kept_columns_are_counted():
    selection = mine("n-tuple", keep_columns=["lang"], output_ids=True, return_statistics=True)
    assert selection.statistics.columns_kept == ["lang"]
    assert selection.statistics.ids_missing == 0


def test_an_unknown_kept_column_names_the_columns_before_the_teacher_loads():
    with pytest.raises(ValueError, match=r"'language' is not a column of the dataset; its columns are \['query_id'"):
        mine_hard_negatives(pairs_with_ids(), "/nonexistent/model/folder", corpus=CORPUS, keep_columns=["language"])
    with pytest.raises(ValueError, match="is a column the mined set writes itself"):
        mine_hard_negatives(pairs_with_ids(), "bm25", keep_columns=["negative_1"])
    with pytest.raises(ValueError, match="is the anchor column"):
        mine_hard_negatives(pairs_with_ids(), "bm25", corpus=CORPUS, keep_columns=["query"])


def test_a_saved_pool_keeps_its_ids_and_kept_columns(tmp_path):
    pool = CandidatePool.build(pairs_with_ids(), "bm25", corpus=CORPUS, depth=3, keep_columns=["lang"],
                               show_progress=False)  # fmt: skip
    pool.save(tmp_path / "pool")
    loaded = CandidatePool.load(tmp_path / "pool")
    kwargs = dict(num_negatives=2, output_ids=True, output_format="triplet", show_progress=False)
    assert loaded.select(**kwargs).to_list() == pool.select(**kwargs).to_list()
    assert loaded.take_rows([2]).select(**kwargs)["lang"] == ["de", "de"]


def test_mining_config_reproduces_a_set_with_ids_and_kept_columns(tmp_path):
    selection = mine("labeled-pair", output_ids=True, keep_columns=["lang"], return_statistics=True)
    save_for_hub({"ids": selection}, tmp_path / "repo", plots=False, show_progress=False)
    config = load_mining_config(tmp_path / "repo", "ids")
    assert config.pool_settings.keep_columns == ("lang",)
    assert config.selection_settings.output_ids is True
    again = config.mine(pairs_with_ids(), corpus=CORPUS, show_progress=False)
    assert again.to_list() == selection.dataset.to_list()  # MiningConfig.mine returns the Dataset
    card = (tmp_path / "repo" / "README.md").read_text()
    assert "anchor_id" in card and "`lang`" in card


def test_the_map_miner_writes_ids_and_kept_columns():
    from st_hardneg import HardNegativeMiner

    miner = HardNegativeMiner("bm25", corpus=CORPUS, method="naive-topk", num_negatives=2, output_format="triplet",
                              output_ids=True, keep_columns=["lang"])  # fmt: skip
    mined = pairs_with_ids().map(miner, batched=True, batch_size=2, remove_columns=pairs_with_ids().column_names)
    expected = mine("triplet", output_ids=True, keep_columns=["lang"])
    assert mined.to_list() == expected.to_list()


def test_the_command_keeps_columns_of_a_pairs_file_and_writes_ids_of_a_beir_folder(tmp_path):
    import json

    from st_hardneg.cli import main
    from tests.data.test_beir import _write_beir

    pairs = tmp_path / "pairs.jsonl"
    rows = [{"query": QUERIES[q], "passage": CORPUS[d], "lang": lang} for q, d, lang in QRELS]
    pairs.write_text("\n".join(json.dumps(r) for r in rows))
    docs = tmp_path / "docs.txt"
    docs.write_text("\n".join(CORPUS.values()))
    out = tmp_path / "out.jsonl"
    base = ["--quiet", "--teacher", "bm25", "--method", "naive-topk", "--num-negatives", "1"]
    assert main([*base, str(pairs), "--corpus", str(docs), "--keep-columns", "lang", "--output", str(out)]) == 0
    written = [json.loads(line) for line in out.read_text().splitlines()]
    assert [(r["query"], r["lang"]) for r in written] == [(r["query"], r["lang"]) for r in rows]
    beir_out = tmp_path / "beir.jsonl"
    beir = _write_beir(tmp_path / "beir")
    argv = [*base, str(beir), "--split", "train", "--output-format", "triplet", "--on-short", "fill", "--output-ids"]
    assert main([*argv, "--output", str(beir_out)]) == 0
    mined = [json.loads(line) for line in beir_out.read_text().splitlines()]
    assert [(r["anchor_id"], r["positive_id"]) for r in mined] == [("1", "d1"), ("2", "d3"), ("2", "d2")]
    assert all(r["negative_id"] in {"d1", "d2", "d3", "d4"} - {r["positive_id"]} for r in mined)
