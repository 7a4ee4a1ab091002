"""The example notebooks run as shipped (nbclient, a python3 kernel importing this checkout), and
examples/build_notebooks.py still writes them."""

from __future__ import annotations

import os
import sys

import pytest

from tests.conftest import REPO_ROOT, minilm_path

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
EXAMPLES = REPO_ROOT / "examples"
NOTEBOOKS = sorted(p.name for p in EXAMPLES.glob("*.ipynb"))


def test_the_notebooks_are_what_the_build_script_writes():
    sys.path.insert(0, str(EXAMPLES))
    try:
        import build_notebooks
    finally:
        sys.path.remove(str(EXAMPLES))
    assert NOTEBOOKS == sorted(build_notebooks.NOTEBOOKS)
    for name in NOTEBOOKS:
        committed = nbformat.read(EXAMPLES / name, as_version=4)
        assert committed == build_notebooks.build(name), f"examples/{name}: run python examples/build_notebooks.py"


@pytest.mark.slow
@pytest.mark.parametrize("name", NOTEBOOKS)
def test_the_notebook_runs(name, tmp_path, monkeypatch, no_hub_token):
    minilm_path()  # skips without the packaged model
    # The kernel is a subprocess: it imports st_hardneg from this checkout and stays offline.
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(REPO_ROOT), os.environ.get("PYTHONPATH", "")]))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TOKENIZERS_PARALLELISM", "false")
    nb = nbformat.read(EXAMPLES / name, as_version=4)
    client = nbclient.NotebookClient(
        nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    client.execute()
    outputs = [o for cell in nb.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    if name.startswith(("01", "02")):  # the score histograms are drawn inline
        assert any("image/png" in o.get("data", {}) for o in outputs)
    if name.startswith("04"):
        assert "Not pushing" in "".join(o.get("text", "") for o in outputs)


@pytest.fixture
def no_hub_token(monkeypatch, tmp_path):
    """The kernel must find no token, so the push cell is skipped."""
    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.delenv("HUGGING_FACE_HUB_TOKEN", raising=False)
    monkeypatch.setenv("HF_TOKEN_PATH", str(tmp_path / "no-token"))
