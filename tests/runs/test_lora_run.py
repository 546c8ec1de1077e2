"""`train --lora-rank N`: a run that fine-tunes its text encoder with LoRA, and its bad requests."""

import json

import numpy as np
import pytest

from multimodal_tf.cli import main
from multimodal_tf.models import LoraBackbone
from multimodal_tf.runs import RunConfig, evaluate_run, load_run
from multimodal_tf.runs.models import encoder_arguments
from tests.helpers import cli_args

TEXT_RUN = {"dataset": "rt_snippets", "architecture": "tiny", "limit": 64, "text_length": 16}


@pytest.fixture(scope="module")
def lora_run(tmp_path_factory, data_dir):
    output = tmp_path_factory.mktemp("lora-runs")
    arguments = cli_args(
        "train", **TEXT_RUN, epochs=1, lora_rank=2, test_limit=32, quiet=True,
        data_dir=data_dir, output=str(output), run="lora",
    )  # fmt: skip
    assert main(arguments) == 0
    return output / "lora"


@pytest.mark.slow
def test_a_lora_run_records_its_rank_and_reloads_with_lora(lora_run):
    metrics = json.loads((lora_run / "metrics.json").read_text())
    assert metrics["config"]["lora_rank"] == 2
    model, _, _ = load_run(str(lora_run))
    [wrapper] = [layer for layer in model.get_layer("text_encoder").layers
                 if isinstance(layer, LoraBackbone)]  # fmt: skip
    assert wrapper.rank == 2
    names = {weight.name for weight in model.trainable_weights}
    assert names == {"lora_kernel_a", "lora_kernel_b", "kernel", "bias"}  # factors, head
    accuracy = evaluate_run(str(lora_run))
    assert accuracy == pytest.approx(metrics["test_accuracy"])
    assert np.isfinite(list(accuracy.values())).all()


def test_lora_reaches_the_text_encoder_and_unfreezes_it():
    config = RunConfig(dataset="twemoji_categories", lora_rank=4)
    text = encoder_arguments(config, {"image_shape": [8, 8, 3]}, None)["text"]
    assert (text["lora_rank"], text["freeze"]) == (4, False)
    assert (
        "lora_rank" not in encoder_arguments(RunConfig(), {"image_shape": [8, 8, 3]}, None)["text"]
    )


@pytest.mark.parametrize(
    "options, message",
    [
        ({"lora_rank": 0}, "`lora_rank` must be a positive integer"),
        ({"dataset": "fashion_mnist", "lora_rank": 4}, "`lora_rank` applies to the BERT text"),
        ({"modalities": "image", "lora_rank": 4}, r"no text modality \(image\)"),
        ({"lora_rank": 4, "fine_tune_text": True}, "`fine_tune_text`=True asks for all of it"),
        ({"lora_rank": 4, "fine_tune_text": False}, "`fine_tune_text`=False asks for none"),
    ],
)
def test_bad_lora_options_name_lora_rank(options, message):
    with pytest.raises(ValueError, match=message):
        RunConfig(**options)


def test_the_command_line_refuses_bad_ranks_in_one_line(data_dir, tmp_path, capsys):
    common = {"quiet": True, "data_dir": data_dir, "output": str(tmp_path)}
    assert main(cli_args("train", dataset="fashion_mnist", lora_rank=4, **common)) == 2
    error = capsys.readouterr().err
    assert "`lora_rank` applies to the BERT text encoder" in error and error.count("\n") == 1
    assert main(cli_args("train", **TEXT_RUN, lora_rank=9, **common)) == 2
    error = capsys.readouterr().err
    assert "`lora_rank` must be at most the encoder's hidden size (8), got 9" in error
    assert error.count("\n") == 1
    with pytest.raises(SystemExit):
        main(cli_args("train", **TEXT_RUN, lora_rank=0, **common))
    assert "--lora-rank" in capsys.readouterr().err
