"""The README's Python code runs as written, offline (in a temporary folder)."""

from __future__ import annotations

import re

import pytest

from tests.conftest import REPO_ROOT, minilm_path


def python_blocks(path):
    return re.findall(r"```python\n(.*?)```", path.read_text(), flags=re.S)


@pytest.mark.slow
def test_the_readme_code_runs_as_written(tmp_path, monkeypatch):
    minilm_path()  # skips without the packaged model
    blocks = python_blocks(REPO_ROOT / "README.md")
    assert blocks, "the README has no Python code"
    monkeypatch.chdir(tmp_path)
    for block in blocks:
        exec(compile(block, "README.md", "exec"), {"__name__": "__readme__"})
    assert (tmp_path / "pool" / "pool.json").is_file()


def test_the_options_reference_is_current():
    from st_hardneg.settings.reference import options_markdown

    assert (REPO_ROOT / "docs" / "options.md").read_text() == options_markdown() + "\n", (
        "docs/options.md is stale: python -m st_hardneg.settings.reference > docs/options.md"
    )
