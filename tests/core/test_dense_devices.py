"""A dense teacher's device and dtype: the devices given reach sentence-transformers (one device: ``encode(device=)``;
several: its multi-process pool), the dtype is recorded in the embedding cache key, a device or dtype that cannot
be honoured is a one-line error before any model loads, and bf16 rows differ from fp32 rows only where the fp32
scores tie within bf16's precision."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from st_hardneg.cli.mine import build_parser
from st_hardneg.teachers import DenseTeacher
from st_hardneg.teachers.search import exact_topk
from st_hardneg.teachers.settings import DenseSettings

MINILM = "sentence-transformers/all-MiniLM-L6-v2"
TEXTS = ["Statins lower LDL cholesterol.", "The Eiffel Tower is in Paris.", "Aspirin thins the blood."]


def test_devices_and_dtype_settings():
    assert DenseSettings(device=["cuda:0"]).device == "cuda:0"
    assert DenseSettings(device=["cuda:0", "cuda:1"]).device == ("cuda:0", "cuda:1")
    assert DenseSettings(device=("cpu", "cpu")).to_dict()["device"] == ["cpu", "cpu"]
    assert DenseSettings.from_dict(DenseSettings(device=["cpu", "cpu"]).to_dict()).device == ("cpu", "cpu")
    with pytest.raises(ValueError, match="dtype must be one of 'float32', 'bfloat16', 'float16'; got 'bf16'"):
        DenseSettings(dtype="bf16")
    with pytest.raises(TypeError, match="device must be a device name or a list of them"):
        DenseSettings(device=["cuda:0", 1])
    with pytest.raises(TypeError, match="device must be a device name"):
        DenseSettings(device=[])


def test_the_command_takes_device_and_dtype():
    args = build_parser().parse_args(["--device", "cuda:0,cuda:1", "--dtype", "bfloat16"])
    assert (args.device, args.dtype) == (("cuda:0", "cuda:1"), "bfloat16")


@pytest.mark.skipif(torch.cuda.is_available(), reason="a CUDA device is visible")
def test_a_cuda_device_without_cuda_fails_before_the_model_loads():
    with pytest.raises(RuntimeError, match=r"^device 'cuda:0' asked for, but torch sees no CUDA device"):
        DenseTeacher("no/such-model", device=["cuda:0", "cuda:1"])  # a name that would fail to load


def test_search_runs_on_the_first_device(minilm):
    assert DenseTeacher(minilm, device="cpu").search_backend.device == "cpu"
    assert DenseTeacher(minilm, device=["cpu", "cpu"]).search_backend.device == "cpu"
    assert DenseTeacher(minilm).search_backend.device == str(minilm.device)


def test_a_given_model_in_another_dtype_is_refused_not_cast(minilm):
    with pytest.raises(ValueError, match=r"^dtype='bfloat16' but the given model is in float32: pass the model's name"):
        DenseTeacher(minilm, dtype="bfloat16")
    assert next(minilm.parameters()).dtype == torch.float32
    assert DenseTeacher(minilm, dtype="float32").dtype == "float32"


def test_one_device_is_passed_to_encode(minilm, monkeypatch):
    seen = []
    original = type(minilm).encode_document

    def spy(self, texts, **kwargs):
        seen.append((kwargs.get("device"), kwargs.get("pool")))
        return original(self, texts, **kwargs)

    monkeypatch.setattr(type(minilm), "encode_document", spy)
    DenseTeacher(minilm, device="cpu").encode(TEXTS, "document", show_progress=False)
    assert seen == [("cpu", None)]


def test_several_devices_encode_through_one_multi_process_pool(minilm, monkeypatch):
    started, stopped, seen = [], [], []
    model_type = type(minilm)

    def start(self, target_devices=None):
        started.append(list(target_devices))
        return {"pool": len(started)}

    def encode(self, texts, **kwargs):
        seen.append((kwargs.get("device"), kwargs.get("pool")))
        return np.ones((len(texts), 4), np.float32)

    monkeypatch.setattr(model_type, "start_multi_process_pool", start)
    monkeypatch.setattr(model_type, "stop_multi_process_pool", staticmethod(lambda pool: stopped.append(pool)))
    monkeypatch.setattr(model_type, "encode_document", encode)
    monkeypatch.setattr(model_type, "encode_query", encode)
    teacher = DenseTeacher(minilm, device=["cpu", "cpu"])
    teacher.encode(TEXTS, "document", show_progress=False)
    teacher.encode(TEXTS, "query", show_progress=False)
    assert started == [["cpu", "cpu"]]  # started once, used by every encode
    assert seen == [(None, {"pool": 1})] * 2
    teacher.close()
    assert stopped == [{"pool": 1}]
    assert teacher.__getstate__()["_pool"] is None


@pytest.mark.slow
def test_several_cpu_processes_give_the_single_process_embeddings(minilm):
    teacher = DenseTeacher(MINILM, device=["cpu", "cpu"])
    try:
        several = teacher.encode(TEXTS * 4, "document", show_progress=False)
    finally:
        teacher.close()
    one = DenseTeacher(minilm, device="cpu").encode(TEXTS * 4, "document", show_progress=False)
    np.testing.assert_allclose(several, one, atol=1e-5)


def test_bf16_and_fp32_embeddings_never_share_a_cache_entry(minilm, tmp_path):
    fp32 = DenseTeacher(minilm, cache_folder=tmp_path)
    bf16 = DenseTeacher(MINILM, device="cpu", dtype="bfloat16", cache_folder=tmp_path)
    assert bf16.dtype == "bfloat16" and next(bf16.model.parameters()).dtype == torch.bfloat16
    assert fp32.cache_key(TEXTS, "document") != bf16.cache_key(TEXTS, "document")
    a = fp32.encode(TEXTS, "document", show_progress=False)
    b = bf16.encode(TEXTS, "document", show_progress=False)
    assert len(list(tmp_path.glob("*.npy"))) == 2
    assert not np.array_equal(a, b) and np.abs(a - b).max() < 0.02
    # an fp32 teacher loaded by name shares the given fp32 model's entry (float32 keys are those of earlier versions)
    assert DenseTeacher(MINILM, device="cpu", cache_folder=tmp_path).cache_key(TEXTS, "document") == fp32.cache_key(
        TEXTS, "document"
    )


def test_dtype_is_part_of_the_identity_and_config_only_when_set(minilm):
    assert "dtype" not in DenseTeacher(MINILM).identity()
    assert DenseTeacher(MINILM, dtype="bfloat16").identity()["dtype"] == "bfloat16"
    assert DenseTeacher(MINILM, dtype="bfloat16").config()["dtype"] == "bfloat16"


#: bf16 keeps 8 bits of mantissa: two units of its rounding near a score of 1.
BF16_TIE = 2.0**-7


@pytest.mark.slow
def test_bf16_rows_differ_from_fp32_only_where_fp32_scores_tie_within_bf16_precision(minilm):
    from st_hardneg.data import load_default

    pairs, corpus = load_default()
    anchors = list(pairs["anchor"])
    fp32 = DenseTeacher(minilm)
    bf16 = DenseTeacher(MINILM, device="cpu", dtype="bfloat16")
    s32 = fp32.encode(anchors, "query", False) @ fp32.encode(corpus, "document", False).T
    s16 = bf16.encode(anchors, "query", False) @ bf16.encode(corpus, "document", False).T
    k = 30
    i32, _ = exact_topk(s32, np.eye(len(corpus), dtype=np.float32), k)  # rank rows of the score matrices
    i16, _ = exact_topk(s16, np.eye(len(corpus), dtype=np.float32), k)
    differing = (i32 != i16).any(axis=1)
    assert differing.any()  # bf16 does change some rankings of the default data
    for r in np.flatnonzero(differing):
        docs = sorted(set(i32[r]) | set(i16[r]))
        # every pair of documents ordered one way by fp32 and the other by bf16 ties within bf16's precision in fp32
        for a in docs:
            for b in docs:
                if s32[r, a] > s32[r, b] and s16[r, a] < s16[r, b]:
                    assert s32[r, a] - s32[r, b] < BF16_TIE, (r, a, b)
