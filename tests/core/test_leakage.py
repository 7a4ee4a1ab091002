"""The leakage guard (issue 18, item 5): training rows whose anchor is an evaluation anchor, after normalisation,
are dropped before anything is encoded, and counted."""

import json
import logging

import pytest
from datasets import Dataset

from st_hardneg import CandidatePool, HardNegativeMiner, mine_hard_negatives
from st_hardneg.cli import main
from st_hardneg.data.normalize import normalize_text
from st_hardneg.settings import PoolSettings
from tests.core.matrix_teacher import MatrixTeacher

PAIRS = Dataset.from_dict(
    {
        "anchor": ["What is X?", "what  is x", "Where is Y", "How big is Z?"],
        "positive": ["x is a letter", "x again", "y is here", "z is big"],
    }
)
CORPUS = ["x is a letter", "x again", "y is here", "z is big", "unrelated text"]


def test_normalisation_ignores_case_punctuation_and_whitespace():
    assert normalize_text("  What is\tX? ") == "what is x"
    assert normalize_text("¿Qué es «X»?") == "qué es x"
    assert normalize_text("a.b") == "ab" and normalize_text("a b") == "a b"


def test_build_drops_evaluation_anchors_before_the_teacher_sees_them(caplog):
    teacher = MatrixTeacher({})
    with caplog.at_level(logging.WARNING):
        pool = CandidatePool.build(PAIRS, teacher, corpus=CORPUS, exclude=["WHAT IS X"], depth=2, show_progress=False)
    # rows 0 and 1 both normalise to "what is x"; the teacher ranked only the two other anchors
    assert list(pool.queries.to_pylist()) == ["Where is Y", "How big is Z?"]
    assert [q for call in teacher.calls for q in call[0]] == ["Where is Y", "How big is Z?"]
    assert pool.statistics.rows_excluded == 2
    assert "dropped 2 of 4 training rows" in caplog.text
    assert pool.config["settings"]["exclude"] == ["what is x"]


def test_exclude_takes_an_evaluation_dataset_by_its_anchor_column_and_mine_records_it():
    evaluation = Dataset.from_dict({"anchor": ["how big is z"], "positive": ["z is big"]})
    res = mine_hard_negatives(
        PAIRS, "bm25", corpus=CORPUS, exclude=evaluation, num_negatives=1, output_format="triplet", on_short="fill",
        show_progress=False, return_statistics=True,
    )  # fmt: skip
    assert res.dataset["anchor"] == ["What is X?", "what  is x", "Where is Y"]
    assert res.statistics.rows_in == 3


def test_the_miner_drops_evaluation_rows_from_each_batch():
    miner = HardNegativeMiner(
        "bm25",
        corpus=CORPUS,
        exclude=["where is y"],
        num_negatives=1,
        output_format="triplet",
        on_short="fill",
    )
    mined = PAIRS.map(miner, batched=True, batch_size=2, remove_columns=PAIRS.column_names)
    assert mined["anchor"] == ["What is X?", "what  is x", "How big is Z?"]
    assert [h["rows_excluded"] for h in miner.history] == [0, 1]


def test_exclude_is_checked_on_one_line_before_any_work():
    with pytest.raises(TypeError, match="got one string"):
        PoolSettings(exclude="what is x")
    with pytest.raises(ValueError, match="every one of the 4 training rows"):
        CandidatePool.build(PAIRS, MatrixTeacher({}), corpus=CORPUS, exclude=list(PAIRS["anchor"]))


def test_the_command_reads_exclude_from_a_file(tmp_path, capsys):
    pairs = tmp_path / "pairs.jsonl"
    pairs.write_text("\n".join(json.dumps(r) for r in PAIRS.to_list()))
    evaluation = tmp_path / "eval.txt"
    evaluation.write_text("Where is Y?\n\nhow big is z\n")
    out = tmp_path / "out.jsonl"
    args = [
        "--quiet",
        str(pairs),
        "--teacher",
        "bm25",
        "--num-negatives",
        "1",
        "--output-format",
        "triplet",
        "--on-short",
        "fill",
    ]
    assert main([*args, "--exclude", str(evaluation), "--output", str(out)]) == 0
    assert [json.loads(line)["anchor"] for line in out.read_text().splitlines()] == ["What is X?", "what  is x"]
    report = json.loads((tmp_path / "out.jsonl.mining.json").read_text())
    assert report["pool"]["settings"]["exclude"] == ["how big is z", "where is y"]
    with pytest.raises(SystemExit) as stop:
        main([*args, "--exclude", str(tmp_path / "missing.txt"), "--output", str(tmp_path / "o2.jsonl")])
    assert stop.value.code == 2 and "missing.txt: no such file" in capsys.readouterr().err


# The leakage guard drops rows before the layout is built: the ids and kept columns (issue 18, items 1-2) must be
# filtered with the same rows. Row 0 is the evaluation anchor, so a misaligned id or language would shift by one row.
ID_PAIRS = Dataset.from_dict(
    {
        "anchor_id": ["q1", "q2", "q3"],
        "anchor": ["first query", "second query", "third query"],
        "positive": ["doc one", "doc two", "doc three"],
        "lang": ["en", "fr", "de"],
    }
)
ID_CORPUS = {"d1": "doc one", "d2": "doc two", "d3": "doc three", "d4": "doc four"}
ID_SCORES = {
    "first query": {"doc one": 0.9, "doc two": 0.8, "doc three": 0.7, "doc four": 0.6},
    "second query": {"doc two": 0.95, "doc four": 0.9, "doc one": 0.5, "doc three": 0.1},
    "third query": {"doc three": 0.9, "doc one": 0.8, "doc two": 0.2, "doc four": 0.1},
}
# worked out by hand: q1 leaves; q2's hardest non-positive is "doc four" (0.9), q3's is "doc one" (0.8)
ID_EXPECTED = [
    {"anchor": "second query", "positive": "doc two", "negative": "doc four", "anchor_id": "q2", "positive_id": "d2",
     "negative_id": "d4", "lang": "fr"},
    {"anchor": "third query", "positive": "doc three", "negative": "doc one", "anchor_id": "q3", "positive_id": "d3",
     "negative_id": "d1", "lang": "de"},
]  # fmt: skip
ID_OPTIONS = dict(
    exclude=["First Query!"], output_ids=True, keep_columns=["lang"], method="naive-topk", num_negatives=1,
    output_format="triplet", show_progress=False,
)  # fmt: skip


def test_exclude_keeps_the_ids_and_kept_columns_of_the_rows_left():
    mined = mine_hard_negatives(ID_PAIRS, MatrixTeacher(ID_SCORES), corpus=ID_CORPUS, depth=3, **ID_OPTIONS)
    assert mined.to_list() == ID_EXPECTED


def test_the_miner_keeps_the_ids_and_kept_columns_of_the_rows_left():
    miner = HardNegativeMiner(MatrixTeacher(ID_SCORES), corpus=ID_CORPUS, depth=3, **ID_OPTIONS)
    mined = ID_PAIRS.map(miner, batched=True, remove_columns=ID_PAIRS.column_names)
    assert mined.to_list() == ID_EXPECTED
