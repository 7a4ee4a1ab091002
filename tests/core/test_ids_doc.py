"""docs/ids.md: its Python blocks run as written."""

from tests.conftest import REPO_ROOT
from tests.test_readme import python_blocks


def test_the_ids_doc_runs(monkeypatch, tmp_path):
    blocks = python_blocks(REPO_ROOT / "docs" / "ids.md")
    assert blocks
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("builtins.print", lambda *a, **k: None)
    scope = {"__name__": "__docs__"}
    for block in blocks:
        exec(compile(block, "ids.md", "exec"), scope)
    assert scope["mined"].column_names == ["query", "passage", "negative", "anchor_id", "positive_id", "negative_id",
                                           "lang"]  # fmt: skip
    assert scope["train"].column_names == ["query", "passage", "negative"]
