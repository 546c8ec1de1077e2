"""A real full disk: training on a tmpfs of a few hundred KB (needs `unshare` and tmpfs mounts)."""

import os
import shlex
import shutil
import subprocess
import sys

import pytest

from tests.helpers import tiny_vowels_run

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _can_mount_tmpfs(tmp_path) -> str | None:
    """None if this process may mount a tmpfs in a user namespace, else the reason."""
    if shutil.which("unshare") is None:
        return "no unshare command"
    probe = subprocess.run(
        [
            "unshare",
            "--user",
            "--map-root-user",
            "--mount",
            "sh",
            "-c",
            f"mount -t tmpfs -o size=64k tmpfs {tmp_path}",
        ],
        capture_output=True,
        text=True,
    )
    return None if probe.returncode == 0 else f"cannot mount a tmpfs: {probe.stderr.strip()}"


@pytest.mark.slow
@pytest.mark.parametrize(
    "size, first_file",
    [("8k", "logs/train/events.out.tfevents"), ("96k", "best.keras")],  # TensorBoard's, ours
)
def test_training_on_a_full_tmpfs_is_one_line_then_resumes_once_space_is_freed(
    data_dir, tmp_path, size, first_file
):
    from multimodal_tf.cli import main

    assert main(tiny_vowels_run(data_dir, tmp_path / "warm", "--run", "w")) == 0  # data prepared
    mount = tmp_path / "full"
    mount.mkdir()
    reason = _can_mount_tmpfs(mount)
    if reason:
        pytest.skip(reason)
    arguments = tiny_vowels_run(
        data_dir, mount / "runs", "--run", "r", "--epochs", "2", test_limit=16
    )
    command = shlex.join([sys.executable, "-m", "multimodal_tf.cli", *arguments])
    script = (
        f"mount -t tmpfs -o size={size} tmpfs '{mount}' || exit 99\n"
        f"{command} > '{tmp_path}/first.out' 2> '{tmp_path}/first.err'; echo first=$?\n"
        f"mount -o remount,size=64m '{mount}'\n"
        f"{command} > '{tmp_path}/second.out' 2> '{tmp_path}/second.err'; echo second=$?\n"
    )
    result = subprocess.run(
        ["unshare", "--user", "--map-root-user", "--mount", "sh", "-c", script],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=900,
    )
    codes = dict(line.split("=") for line in result.stdout.split())
    first_err = (tmp_path / "first.err").read_text()
    assert codes["first"] == "2", first_err  # not 139 (h5py's segfault) nor 1 (a traceback)
    assert "Traceback" not in first_err and "Exception ignored" not in first_err
    last = first_err.strip().splitlines()[-1]
    assert last.startswith("multimodal-tf train: error: cannot write or read '"), last
    assert f"{mount}/runs/r/{first_file}" in last and "No space left on device" in last, last
    second_err = (tmp_path / "second.err").read_text()
    assert codes["second"] == "0", second_err
    assert "Traceback" not in second_err


# The disk fills after the free-space check passed: another process took the space. Before
# the backup's weights were made in memory, h5py wrote them itself and crashed (exit 139).
RACE = """
import shutil, sys
from multimodal_tf.training import train
from tests.helpers import build_tiny
from tests.training.common import dataset, quiet
real = shutil.disk_usage
shutil.disk_usage = lambda path: real(path)._replace(free=1 << 40)  # the check sees room
config = quiet(epochs=2, checkpoint=False, tensorboard=False, output_dir=sys.argv[1])
try:
    train(lambda: build_tiny("cnn"), dataset(), config)
except OSError as error:
    print(f"OSError {error.errno} {error.filename}")
    sys.exit(2)
"""


def test_a_disk_filled_after_the_check_is_an_oserror_not_a_crash(tmp_path):
    mount = tmp_path / "full"
    mount.mkdir()
    reason = _can_mount_tmpfs(mount)
    if reason:
        pytest.skip(reason)
    command = shlex.join([sys.executable, "-c", RACE, str(mount / "run")])
    script = f"mount -t tmpfs -o size=16k tmpfs '{mount}' || exit 99\n{command}\n"
    result = subprocess.run(
        ["unshare", "--user", "--map-root-user", "--mount", "sh", "-c", script],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": ROOT},
        timeout=300,
    )
    assert result.returncode == 2, result.stderr[-3000:]  # not 139: libhdf5's segfault
    assert "Traceback" not in result.stderr and "Exception ignored" not in result.stderr
    errno, filename = result.stdout.split()[1:]
    assert errno == "28" and filename == f"{mount}/run/backup/next.weights.h5"
