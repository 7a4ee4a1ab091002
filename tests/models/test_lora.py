"""LoRA adapters: merging into the base weights, and the base model name a saved adapter records."""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
from pathlib import Path

import pytest
import torch
from helpers import PASSAGES, PROMPT, QUERIES, build_model, first_token_changes

from st_hardneg.models import add_lora_adapter, decoder_lora_config, merge_lora_adapter, save_portable
from st_hardneg.models.lora import base_model_reference

DOCS = Path(__file__).resolve().parents[2] / "docs" / "models.md"
R, ALPHA = 4, 8


def _perturb_adapter(model, seed: int = 0) -> None:
    """Give every lora_B a random value (peft starts it at zero, which would make the adapter a no-op)."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, parameter in model[0].model.named_parameters():
            if "lora_B" in name:
                parameter.copy_(torch.randn(parameter.shape, generator=generator) * 0.5)


def _adapted_model(path, **backbone_kwargs):
    model = add_lora_adapter(
        build_model(path, **backbone_kwargs), decoder_lora_config(r=R, lora_alpha=ALPHA, lora_dropout=0.0)
    )
    _perturb_adapter(model)
    return model.eval()


def _embed(model) -> dict[str, torch.Tensor]:
    """Passages, prompted queries, and queries whose prompt does not end in a space (stock pooling agrees)."""
    return {
        "passages": model.encode_document(PASSAGES, convert_to_tensor=True),
        "queries": model.encode_query(QUERIES, prompt=PROMPT, convert_to_tensor=True),
        "stable": model.encode([" " + q for q in QUERIES], prompt=PROMPT.rstrip(), convert_to_tensor=True),
    }


def _assert_same(actual: dict, expected: dict, keys=("passages", "queries", "stable")) -> None:
    for key in keys:
        torch.testing.assert_close(actual[key], expected[key], atol=1e-5, rtol=1e-4, msg=key)


def _has_peft_modules(model) -> bool:
    from peft import PeftModel
    from peft.tuners.tuners_utils import BaseTunerLayer

    return any(isinstance(module, (PeftModel, BaseTunerLayer)) for module in model.modules())


def test_merge_keeps_embeddings_and_removes_peft(tiny_checkpoints, family, tmp_path):
    from sentence_transformers import SentenceTransformer

    plain = _embed(build_model(tiny_checkpoints[family]).eval())
    model = _adapted_model(tiny_checkpoints[family])
    adapted = _embed(model)
    assert not torch.allclose(adapted["passages"], plain["passages"], atol=1e-3)  # the adapter does something

    # Independent expectation for one projection: W + (alpha / r) * B @ A, from the unmerged weights.
    q_proj = model[0].model.base_model.model.layers[0].self_attn.q_proj
    expected_q = (
        q_proj.base_layer.weight + (ALPHA / R) * q_proj.lora_B["default"].weight @ q_proj.lora_A["default"].weight
    )
    expected_q = expected_q.detach().clone()

    assert merge_lora_adapter(model) is model
    assert _has_peft_modules(model) is False
    assert not hasattr(model[0].auto_model, "peft_config")
    assert not any("lora_" in name for name, _ in model.named_parameters())
    torch.testing.assert_close(model[0].auto_model.layers[0].self_attn.q_proj.weight, expected_q)
    assert all(parameter.requires_grad for parameter in model.parameters())
    assert model[0].bidirectional and first_token_changes(model[0], padded=True)
    _assert_same(_embed(model), adapted)

    # Merged weights save in full and load with a stock SentenceTransformer.
    save_portable(model, tmp_path)
    assert not (tmp_path / "adapter_config.json").exists()
    assert json.loads((tmp_path / "config.json").read_text())["is_causal"] is False
    stock = SentenceTransformer(str(tmp_path), device="cpu")
    assert _has_peft_modules(stock) is False
    assert first_token_changes(stock[0], padded=True)
    # Stock Pooling drops a prompt ending in a space one token too far (documented), so compare the others.
    _assert_same(_embed(stock), adapted, keys=("passages", "stable"))


@pytest.mark.slow
def test_merge_after_a_training_step(tiny_checkpoints, tmp_path):
    """An adapter moved by the optimizer (not by hand) merges to the same embeddings too."""
    from datasets import Dataset
    from sentence_transformers import SentenceTransformerTrainer, SentenceTransformerTrainingArguments
    from sentence_transformers.sentence_transformer.losses import MultipleNegativesRankingLoss

    model = add_lora_adapter(
        build_model(tiny_checkpoints["qwen2"]), decoder_lora_config(r=R, lora_alpha=ALPHA, lora_dropout=0.0)
    )
    untrained = _embed(model.eval())
    rows = [{"anchor": q, "positive": p} for q, p in zip(QUERIES, [*PASSAGES, "a cat sat on the mat"])]
    args = SentenceTransformerTrainingArguments(
        output_dir=str(tmp_path),
        max_steps=1,
        per_device_train_batch_size=3,
        learning_rate=5e-2,
        warmup_steps=0,
        report_to=[],
        save_strategy="no",
        logging_strategy="no",
        use_cpu=True,
    )
    loss = MultipleNegativesRankingLoss(model)
    SentenceTransformerTrainer(model=model, args=args, train_dataset=Dataset.from_list(rows), loss=loss).train()
    trained = _embed(model.eval())
    assert not torch.allclose(trained["passages"], untrained["passages"], atol=1e-4)

    merge_lora_adapter(model)
    assert _has_peft_modules(model) is False
    _assert_same(_embed(model.eval()), trained)


def test_merge_without_adapter_raises(tiny_checkpoints):
    with pytest.raises(ValueError, match="has no LoRA adapter to merge"):
        merge_lora_adapter(build_model(tiny_checkpoints["llama"]))


def test_assigning_auto_model_is_the_trap_merge_fixes(tiny_checkpoints, tmp_path):
    """`m[0].auto_model = m[0].auto_model.merge_and_unload()` leaves a PeftModel that saves an empty adapter."""
    from safetensors.torch import load_file
    from sentence_transformers import SentenceTransformer

    plain = _embed(build_model(tiny_checkpoints["mistral"]).eval())
    model = _adapted_model(tiny_checkpoints["mistral"])
    adapted = _embed(model)
    model[0].auto_model = model[0].auto_model.merge_and_unload()
    assert hasattr(model[0].auto_model, "peft_config")  # still the peft wrapper: the assignment went elsewhere
    assert "auto_model" in model[0]._modules
    model.save(str(tmp_path / "trap"))
    assert load_file(tmp_path / "trap" / "adapter_model.safetensors") == {}  # the fine-tuning is not saved
    reloaded = SentenceTransformer(str(tmp_path / "trap"), trust_remote_code=True, device="cpu")
    _assert_same(_embed(reloaded), plain)

    merge_lora_adapter(model)
    assert "auto_model" not in model[0]._modules
    assert not any(key.startswith("0.auto_model.") for key in model.state_dict())
    assert _has_peft_modules(model) is False
    _assert_same(_embed(model), adapted)


def _copy_checkpoint(source: Path, target: Path) -> Path:
    shutil.copytree(source, target)
    return target


def test_adapter_from_relative_base_loads_from_elsewhere(tiny_checkpoints, tmp_path, monkeypatch):
    from peft import PeftModel
    from sentence_transformers import SentenceTransformer

    work, elsewhere = tmp_path / "work", tmp_path / "elsewhere"
    _copy_checkpoint(tiny_checkpoints["llama"], work / "base")
    elsewhere.mkdir()
    monkeypatch.chdir(work)
    model = _adapted_model("base")  # relative path, as a user in `work` would type it
    adapted = _embed(model)
    model.save("../saved")

    recorded = json.loads((tmp_path / "saved" / "adapter_config.json").read_text())["base_model_name_or_path"]
    assert os.path.isabs(recorded)
    assert Path(recorded) == work / "base"

    monkeypatch.chdir(elsewhere)  # no `base` folder here
    loaded = SentenceTransformer(str(tmp_path / "saved"), trust_remote_code=True, device="cpu")
    assert isinstance(loaded[0].model, PeftModel)
    assert loaded[0].bidirectional and first_token_changes(loaded[0], padded=True)
    _assert_same(_embed(loaded), adapted)


def test_old_adapter_with_relative_base_is_made_absolute_on_resave(tiny_checkpoints, tmp_path, monkeypatch):
    """An adapter saved with a relative base still loads from that folder, and saving it again fixes the name."""
    from sentence_transformers import SentenceTransformer

    _copy_checkpoint(tiny_checkpoints["qwen2"], tmp_path / "base")
    _adapted_model(tiny_checkpoints["qwen2"]).save(str(tmp_path / "old"))
    config_file = tmp_path / "old" / "adapter_config.json"
    config_file.write_text(json.dumps({**json.loads(config_file.read_text()), "base_model_name_or_path": "base"}))

    monkeypatch.chdir(tmp_path)
    SentenceTransformer("old", trust_remote_code=True, device="cpu").save("new")
    recorded = json.loads((tmp_path / "new" / "adapter_config.json").read_text())["base_model_name_or_path"]
    assert recorded == str(tmp_path / "base")


def test_hub_base_is_recorded_as_its_hub_id(tiny_checkpoints, tmp_path, monkeypatch):
    """A base that came from the Hub (here: a hand-made, offline Hub cache) is named by its id, not a path."""
    import huggingface_hub.constants
    from sentence_transformers import SentenceTransformer

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    cache, repo_id, revision = tmp_path / "hub-cache", "tiny-org/tiny-mistral", "0" * 40
    repo_dir = cache / "models--tiny-org--tiny-mistral"
    _copy_checkpoint(tiny_checkpoints["mistral"], repo_dir / "snapshots" / revision)
    (repo_dir / "refs").mkdir()
    (repo_dir / "refs" / "main").write_text(revision)

    hub = {"cache_dir": str(cache)}
    model = _adapted_model(repo_id, model_kwargs=hub, processor_kwargs=hub, config_kwargs=hub)
    adapted = _embed(model)
    model.save(str(tmp_path / "saved"))
    recorded = json.loads((tmp_path / "saved" / "adapter_config.json").read_text())["base_model_name_or_path"]
    assert recorded == repo_id

    monkeypatch.chdir(tmp_path)
    loaded = SentenceTransformer("saved", trust_remote_code=True, cache_folder=str(cache), device="cpu")
    assert loaded[0].bidirectional
    _assert_same(_embed(loaded), adapted)


def test_base_model_reference(tmp_path, monkeypatch, caplog):
    (tmp_path / "models" / "base").mkdir(parents=True)
    monkeypatch.chdir(tmp_path)
    assert base_model_reference("models/base") == str(tmp_path / "models" / "base")
    assert base_model_reference(Path("models") / "base") == str(tmp_path / "models" / "base")
    assert base_model_reference("mistralai/Mistral-7B-v0.1") == "mistralai/Mistral-7B-v0.1"
    assert base_model_reference(None) is None and base_model_reference("") is None
    with caplog.at_level(logging.WARNING, logger="st_hardneg.models.lora"):
        assert base_model_reference("../gone/base") == "../gone/base"
    assert "neither a local folder nor a Hub id" in caplog.text


def _docs_snippet(heading: str) -> str:
    section = DOCS.read_text(encoding="utf-8").split(heading, 1)[1]
    match = re.search(r"```python\n(.*?)```", section, flags=re.DOTALL)
    assert match, f"no python block after {heading!r}"
    return match.group(1)


def test_docs_merge_snippet_runs(tiny_checkpoints, tmp_path, monkeypatch):
    """The docs' merge-and-export snippet, run as written on a tiny saved adapter in place of the 7B one."""
    model = _adapted_model(tiny_checkpoints["mistral"])
    model.prompts = {"query": PROMPT}
    adapted = _embed(model)
    model.save(str(tmp_path / "nv-retriever-v1" / "final"))

    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    exec(_docs_snippet("## Merge the adapter and export"), namespace)

    assert not (tmp_path / "nv-retriever-v1" / "portable" / "adapter_config.json").exists()
    stock = namespace["stock"]
    assert _has_peft_modules(stock) is False
    assert first_token_changes(stock[0], padded=True)
    # The snippet loads in bfloat16 (as a 7B model would be): close, not equal.
    exported = stock.encode_document(PASSAGES, convert_to_tensor=True).float()
    assert torch.nn.functional.cosine_similarity(exported, adapted["passages"]).min() > 0.99
