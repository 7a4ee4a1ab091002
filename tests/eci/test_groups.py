"""Reading the four mined formats into queries grouped by anchor."""

from __future__ import annotations

import logging

import pytest
from datasets import Dataset

from st_hardneg.eci import detect_format, group_queries

# The same two queries in each format:
#   q1: positives [p1]       negatives [n1, n2, n3]
#   q2: positives [p2, p2b]  negatives [n4, n2]
EXPECTED = {"q1": (["p1"], ["n1", "n2", "n3"]), "q2": (["p2", "p2b"], ["n4", "n2"])}

TRIPLET = Dataset.from_dict(
    {
        "anchor": ["q1", "q1", "q1", "q1", "q2", "q2"],
        "positive": ["p1", "p1", "p1", "p1", "p2", "p2b"],
        "negative": ["n1", "n2", "n3", "n1", "n4", "n2"],  # n1 twice for q1: deduplicated
    }
)
N_TUPLE = Dataset.from_dict(
    {
        "anchor": ["q1", "q1", "q2", "q2"],
        "positive": ["p1", "p1", "p2", "p2b"],
        "negative_1": ["n1", "n3", "n4", "n2"],
        "negative_2": ["n2", "n1", "n2", "n4"],
    }
)
LABELED_LIST = Dataset.from_dict(
    {
        "anchor": ["q1", "q2"],
        "positive": [["p1", "n1", "n2", "n3"], ["p2", "p2b", "n4", "n2"]],
        "labels": [[1, 0, 0, 0], [1, 1, 0, 0]],
    }
)
LABELED_PAIR = Dataset.from_dict(
    {
        "anchor": ["q1", "q1", "q1", "q1", "q2", "q2", "q2", "q2"],
        "document": ["p1", "n1", "n2", "n3", "p2", "n4", "p2b", "n2"],
        "label": [1, 0, 0, 0, 1, 0, 1, 0],
    }
)
FORMATS = {"triplet": TRIPLET, "n-tuple": N_TUPLE, "labeled-list": LABELED_LIST, "labeled-pair": LABELED_PAIR}


def _as_dict(groups):
    return {g.anchor: (g.positives, g.negatives) for g in groups}


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_every_format_gives_the_same_queries(fmt: str) -> None:
    dataset = FORMATS[fmt]
    assert detect_format(dataset) == fmt
    assert _as_dict(group_queries(dataset)) == EXPECTED


def test_user_column_names_default_to_the_first_two_columns() -> None:
    ds = Dataset.from_dict({"query": ["q1", "q1"], "answer": ["a", "a"], "hard": ["x", "y"]})
    groups = group_queries(ds)
    assert _as_dict(groups) == {"q1": (["a"], ["x", "y"])}
    explicit = group_queries(ds, anchor_column="query", positive_column="answer")
    assert _as_dict(explicit) == _as_dict(groups)


def test_stored_scores_follow_their_texts_and_first_score_wins() -> None:
    ds = TRIPLET.add_column("scores", [[0.9, 0.5], [0.9, 0.4], [0.9, 0.3], [0.9, 0.99], [0.8, 0.6], [0.7, 0.2]])
    groups = {g.anchor: g for g in group_queries(ds)}
    assert groups["q1"].positive_scores == [0.9]
    assert groups["q1"].negative_scores == [0.5, 0.4, 0.3]  # the duplicate n1 row (0.99) is ignored
    assert groups["q2"].positive_scores == [0.8, 0.7]
    assert groups["q2"].negative_scores == [0.6, 0.2]


def test_labeled_list_with_scores_and_no_labels_takes_the_first_as_positive() -> None:
    ds = Dataset.from_dict({"anchor": ["q"], "positive": [["p", "a", "b"]], "scores": [[0.9, 0.4, 0.2]]})
    (group,) = group_queries(ds)
    assert (group.positives, group.negatives) == (["p"], ["a", "b"])
    assert (group.positive_scores, group.negative_scores) == ([0.9], [0.4, 0.2])


def test_no_scores_column_gives_no_scores() -> None:
    assert all(g.positive_scores is None and g.negative_scores is None for g in group_queries(TRIPLET))


def test_query_without_negative_is_dropped_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    ds = Dataset.from_dict({"anchor": ["q1", "q2"], "document": ["p", "p2"], "label": [1, 0]})
    ds = ds.add_item({"anchor": "q1", "document": "n", "label": 0})
    with caplog.at_level(logging.WARNING):
        groups = group_queries(ds)
    assert _as_dict(groups) == {"q1": (["p"], ["n"])}
    assert "Dropped 1 of 2 queries" in caplog.text


def test_dataset_without_negatives_is_rejected() -> None:
    with pytest.raises(ValueError, match="no negative column"):
        group_queries(Dataset.from_dict({"anchor": ["q"], "positive": ["p"]}))


def test_missing_named_column_is_rejected() -> None:
    with pytest.raises(ValueError, match="anchor_column='question' is not a column of the dataset"):
        group_queries(TRIPLET, anchor_column="question")


def test_columns_follow_the_project_rule_skipping_non_text_columns() -> None:
    # An id column first: the old ECI rule took the first column as the anchor; the project's rule reads the
    # features and takes the first text column.
    ds = Dataset.from_dict({"id": [7, 8], "query": ["q1", "q1"], "answer": ["a", "a"], "hard": ["x", "y"]})
    assert _as_dict(group_queries(ds)) == {"q1": (["a"], ["x", "y"])}
    assert detect_format(ds) == "triplet"


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_renamed_columns_are_found_in_every_format(fmt: str) -> None:
    renames = {"anchor": "question", "positive": "docs"} if fmt != "labeled-pair" else {"anchor": "question"}
    dataset = FORMATS[fmt].rename_columns(renames)
    assert detect_format(dataset) == fmt
    assert _as_dict(group_queries(dataset)) == EXPECTED


def test_eci_package_no_longer_exports_its_own_column_resolver() -> None:
    import st_hardneg.eci as eci
    import st_hardneg.eci.groups as groups

    assert "resolve_columns" not in eci.__all__ and "resolve_columns" not in groups.__all__
