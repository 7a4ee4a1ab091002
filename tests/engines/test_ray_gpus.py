"""The Ray engine's GPU options, checked without starting Ray or a GPU actor: ``num_gpus_per_worker`` reaches the
options of every Ray task and of the Ray Data encoder actors, sets how many run at once and where search runs, and
a GPU request the cluster cannot meet is a one-line error."""

from __future__ import annotations

import types

import pytest

from st_hardneg.cli.mine import build_parser
from st_hardneg.engines import ray as ray_engine
from st_hardneg.engines.settings import EngineSettings
from st_hardneg.engines.shards import Task

pytest.importorskip("ray", reason='pip install "st-hardneg[ray]"')


class Ref:
    def __init__(self, result):
        self.result = result


class FakeRay:
    """Just enough of ``ray`` for RayEngine: a running session with the given cluster resources, recording the
    options each remote call and the encoders' ``map_batches`` receive."""

    def __init__(self, cluster):
        self.cluster, self.options, self.map_batches = cluster, [], []
        fake = self

        class Remote:
            def options(self, **kw):
                fake.options.append(kw)
                return types.SimpleNamespace(remote=lambda fn, threads, *a, **k: Ref(fn(*a, **k)))

        class Dataset:
            def map_batches(self, cls, **kw):
                fake.map_batches.append(dict(kw, cls=cls))
                return types.SimpleNamespace(iter_rows=lambda: iter(()))

        self.exceptions = types.SimpleNamespace(RayError=RuntimeError)
        self.data = types.SimpleNamespace(
            DataContext=types.SimpleNamespace(get_current=lambda: types.SimpleNamespace()),
            from_items=lambda items, override_num_blocks: Dataset(),
            ActorPoolStrategy=lambda **kw: ("actors", kw),
        )
        self._remote = Remote()

    def is_initialized(self):
        return True

    def cluster_resources(self):
        return self.cluster

    def remote(self, fn):
        return self._remote

    def wait(self, refs, num_returns):
        return refs[:1], refs[1:]

    def get(self, ref):
        return ref.result

    def cancel(self, ref, force):
        pass


class OneTask:
    def __init__(self):
        self.tasks = [Task(key="t0", stage="search", rows=1, inputs="anchors 0-0", fn=lambda: {"ok": 1})]

    def next_task(self):
        return self.tasks.pop() if self.tasks else None


def engine(monkeypatch, cluster, **settings):
    fake = FakeRay(cluster)
    monkeypatch.setattr(ray_engine, "_import_ray", lambda: fake)
    s = EngineSettings(engine="ray", work_dir="w", **settings)
    return ray_engine.RayEngine(s), fake


def encode_tasks():
    return [Task(key="e0", stage="encode", rows=3, inputs="documents 0-2", fn=None, args=("document", "t", 0, 3, "o"))]


def test_num_gpus_per_worker_reaches_every_task_and_encoder_actor(monkeypatch):
    eng, fake = engine(monkeypatch, {"CPU": 16.0, "GPU": 2.0}, num_gpus_per_worker=0.5, cpus_per_worker=2)
    assert list(eng.run(OneTask()))[0][1] == {"ok": 1}
    assert fake.options[0]["num_gpus"] == 0.5 and fake.options[0]["num_cpus"] == 2
    assert eng.task_options()["num_gpus"] == 0.5
    list(eng.encode(object(), encode_tasks(), None))
    call = fake.map_batches[0]
    assert call["num_gpus"] == 0.5 and call["num_cpus"] == 2
    assert call["fn_constructor_kwargs"]["use_gpu"] is True
    assert eng.workers == 4 and eng.device == "cuda"  # 2 GPUs / 0.5 per worker; search tasks run on their GPU


def test_default_is_one_gpu_per_worker_on_a_gpu_cluster_and_none_without(monkeypatch):
    eng, _ = engine(monkeypatch, {"CPU": 16.0, "GPU": 4.0})
    assert (eng.workers, eng.resources["num_gpus"], eng.device) == (4, 1, "cuda")
    eng, fake = engine(monkeypatch, {"CPU": 6.0})
    assert (eng.workers, eng.resources["num_gpus"], eng.device) == (6, 0, None)
    list(eng.encode(object(), encode_tasks(), None))
    assert fake.map_batches[0]["fn_constructor_kwargs"]["use_gpu"] is False


def test_zero_keeps_a_gpu_cluster_on_cpus(monkeypatch):
    eng, fake = engine(monkeypatch, {"CPU": 8.0, "GPU": 2.0}, num_gpus_per_worker=0, cpus_per_worker=2)
    list(eng.run(OneTask()))
    assert fake.options[0]["num_gpus"] == 0 and eng.device is None and eng.workers == 4


def test_more_gpus_than_the_cluster_has_is_a_one_line_error(monkeypatch):
    with pytest.raises(ValueError, match=r"^num_gpus_per_worker=1 but the Ray cluster has 0 GPU\(s\); pass") as err:
        engine(monkeypatch, {"CPU": 8.0}, num_gpus_per_worker=1)
    assert "\n" not in str(err.value)


def test_the_option_is_checked_and_belongs_to_the_ray_engine():
    with pytest.raises(ValueError, match="num_gpus_per_worker must be >= 0"):
        EngineSettings(engine="ray", work_dir="w", num_gpus_per_worker=-1)
    with pytest.raises(ValueError, match="num_gpus_per_worker applies to engine='ray'"):
        EngineSettings(num_gpus_per_worker=1)


def test_the_command_takes_num_gpus_per_worker():
    args = build_parser().parse_args(["--engine", "ray", "--work-dir", "w", "--num-gpus-per-worker", "0.25"])
    assert args.num_gpus_per_worker == 0.25
