"""tf.distribute: two logical CPUs and two loopback workers train what one device does."""

import json
import os
import socket
import subprocess
import sys

import numpy as np
import pytest

from multimodal_tf import training

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _run_worker(mode, output, env=None):
    return subprocess.Popen(
        [sys.executable, "-m", "tests.distributed_worker", mode, str(output)],
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _finish(process, timeout=240):
    output, _ = process.communicate(timeout=timeout)
    assert process.returncode == 0, output[-3000:]


def _weights(archive, prefix):
    keys = [key for key in archive.files if key.startswith(prefix) and key[len(prefix) :].isdigit()]
    return [archive[key] for key in sorted(keys, key=lambda key: int(key[len(prefix) :]))]


@pytest.mark.slow
def test_mirrored_on_two_logical_cpus_matches_one_device(tmp_path):
    output = tmp_path / "mirrored.npz"
    _finish(_run_worker("mirrored", output))
    result = np.load(output)
    assert int(result["replicas"]) == 2
    np.testing.assert_allclose(result["mirrored_loss"], result["single_loss"], rtol=1e-5)
    for single, mirrored in zip(_weights(result, "single_"), _weights(result, "mirrored_")):
        np.testing.assert_allclose(mirrored, single, rtol=1e-4, atol=1e-6)


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.slow
def test_two_workers_on_loopback_match_one_device(tmp_path):
    workers = [f"localhost:{_free_port()}", f"localhost:{_free_port()}"]
    processes = []
    for index in range(2):
        tf_config = {"cluster": {"worker": workers}, "task": {"type": "worker", "index": index}}
        processes.append(
            _run_worker(
                "multiworker", tmp_path / f"worker{index}.npz", {"TF_CONFIG": json.dumps(tf_config)}
            )
        )
    single = _run_worker("single", tmp_path / "single.npz")
    try:
        for process in (*processes, single):
            _finish(process)
    finally:
        for process in (*processes, single):
            process.kill()
    first, second, alone = (
        np.load(tmp_path / name) for name in ("worker0.npz", "worker1.npz", "single.npz")
    )
    assert int(first["replicas"]) == 2
    np.testing.assert_allclose(first["loss"], alone["loss"], rtol=1e-5)
    for a, b, c in zip(_weights(first, "w_"), _weights(second, "w_"), _weights(alone, "w_")):
        np.testing.assert_array_equal(a, b)  # the workers stay in sync
        np.testing.assert_allclose(a, c, rtol=1e-4, atol=1e-6)


def test_multiworker_without_tf_config_names_the_recipe(monkeypatch):
    monkeypatch.delenv("TF_CONFIG", raising=False)
    with pytest.raises(ValueError, match="TF_CONFIG"):
        training.make_strategy("multiworker")
    monkeypatch.setenv(
        "TF_CONFIG", '{"cluster": {"worker": ["a:1"]}, "task": {"type": "worker", "index": 3}}'
    )
    with pytest.raises(ValueError, match="index 3"):
        training.check_tf_config(os.environ["TF_CONFIG"])
