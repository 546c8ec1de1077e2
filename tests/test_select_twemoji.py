"""scripts/select_twemoji.py: every candidate is a valid `multimodal-tf train` command line."""

import importlib.util
import os

from multimodal_tf.cli import build_parser
from multimodal_tf.cli.commands import _run_config

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def load_script():
    spec = importlib.util.spec_from_file_location(
        "select_twemoji", os.path.join(ROOT, "scripts", "select_twemoji.py")
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_candidate_parses_to_a_twemoji_run_config():
    script = load_script()
    parser = build_parser()
    configs = {
        name: _run_config(parser.parse_args(["train", *arguments.split()]))
        for name, arguments in script.CANDIDATES.items()
    }
    assert all(config.dataset == "twemoji_categories" for config in configs.values())
    # The chosen candidate is exactly the main job's defaults (`multimodal-tf train`).
    assert configs[script.CHOSEN] == _run_config(parser.parse_args(["train"]))
    assert configs[script.CHOSEN_TEXT].modalities == ("text",)
    assert {configs[name].augmentation for name in ("image", "fusion")} == {False}
