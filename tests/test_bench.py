"""The benchmarks run (tiny sizes here) and write the results table as documented."""

import json
import re

import pytest

from bench import common, document, epoch_wait, guard, main_job, precision, report, user_data


@pytest.mark.slow
def test_document_vs_us_row_and_the_results_table(tmp_path):
    rows = common.Rows(
        command="python -m bench document --epochs 2 --limit 512", device="test machine"
    )
    rate, accuracy = document.run(rows, epochs=2, limit=512, repeats=2)
    assert set(rate) == set(accuracy) == {"document", "ours"} and all(
        value > 0 for value in rate.values()
    )
    results = tmp_path / "results.jsonl"
    kept = {field: None for field in report.REQUIRED} | {
        "id": "other",
        "benchmark": "guard-cnn",
        "figures": {"figure": "kept", "value": "1", "ratio": "1.00x"},
    }
    results.write_text(json.dumps(kept) + "\n")
    rows.device_class = "avx2"
    rows.record(str(results))
    rows.record(str(results))  # the same figure again: a new row, and the first is superseded
    recorded = report.read_rows(str(results))
    assert recorded[0] == kept
    ours = [row for row in recorded if row["benchmark"] == "document-vs-us"]
    assert len(ours) == 2 and ours[0]["superseded_by"] == ours[1]["id"]
    assert ours[1]["superseded_by"] is None and ours[1]["id"] == ours[0]["id"] + "-2"
    assert re.fullmatch(r"\d+\.\d\dx", ours[1]["figures"]["ratio"])
    value = ours[1]["figures"]["value"]
    assert "median of 2 alternated runs a side" in value and "after the first epoch" in value


def test_a_recorded_row_has_the_documented_format(tmp_path):
    rows = common.Rows(
        command="python -m bench guard --repeats 3",
        device="test machine",
        device_class="avx512_bf16",
        repeats=3,
    )
    rows.add(
        "guard-cnn", "training samples/s with vs without the InputGuard", "1/s vs 1/s", "1.00x"
    )
    (record,) = rows.records()
    assert set(record) == {*report.REQUIRED, "source"}
    assert (
        record["id"]
        == "guard-cnn-training-samples-s-with-vs-without-the-inputguard-avx512bf16-"
        + record["date"]
    )
    assert record["command"] == "python -m bench guard --repeats 3" and record["n"] == 3
    assert record["machine"] == "test machine" and record["machine_class"] == "avx512_bf16"
    assert (
        record["method"] == report.method_of("guard-cnn") != "" and record["superseded_by"] is None
    )
    assert record["figures"] == {
        "figure": "training samples/s with vs without the InputGuard",
        "value": "1/s vs 1/s",
        "ratio": "1.00x",
    }
    rows.record(str(tmp_path / "results.jsonl"))
    assert report.read_rows(str(tmp_path / "results.jsonl")) == [record]


def test_alternated_runs_alternate_the_order_and_pair_each_repetition():
    order = []

    def side(name, seconds):
        def run(repeat):
            order.append((repeat, name))
            return 100, (seconds[repeat], 1.0), 0.5  # 100 samples an epoch, first epoch 1 s

        return run

    result = common.alternated_runs(
        {"ours": side("ours", [2.0, 3.0, 2.0]), "document": side("document", [4.0, 3.0, 5.0])},
        repeats=3,
        epochs=4,
    )
    expected = ["ours", "document", "document", "ours", "ours", "document"]  # ABBA...
    assert order == [(index // 2, name) for index, name in enumerate(expected)]
    assert result["ratios"] == [2.0, 1.0, 2.5]  # 400 samples in 2 s vs 4 s, ...
    assert result["summary"] == ("2.00x", "median of 3 alternated runs a side; ratios 1.00-2.50x")
    # After the first epoch: 300 samples in 1 s vs 3 s, 2 s vs 2 s, 1 s vs 4 s.
    assert result["later_summary"] == "3.00x (1.00-4.00x)"
    assert result["rate"] == {"ours": 200.0, "document": 100.0}
    sides = {"ours": None, "document": None}
    with pytest.raises(ValueError, match="at least 2"):
        common.alternated_runs(sides, repeats=1, epochs=1)
    with pytest.raises(ValueError, match="`repeats` must be at least 1"):
        common.alternated_runs(sides, repeats=0, epochs=2)
    with pytest.raises(ValueError, match="'ours' and 'document'"):
        common.alternated_runs({"ours": None}, repeats=1, epochs=2)


def test_epoch_wait_row_fits_with_the_autotuning_model_on_and_off():
    rows = common.Rows(command="python -m bench epoch-wait", device="test machine")
    epoch_wait.run(rows, epochs=2, limit=256, repeats=1)
    [row] = rows.rows
    assert row[0] == "epoch-wait" and re.fullmatch(
        r"fit \d+\.\d s vs \d+\.\d s \(median\); epoch starts summed over the 1 fits "
        r"\d+\.\d s vs \d+\.\d s, longest \d+\.\d\d s vs \d+\.\d\d s",
        row[2],
    ), row[2]
    assert re.fullmatch(r"\d+\.\d\dx", row[3])


def test_steps_are_timed_inside_the_epochs_after_the_first():
    import keras
    import numpy as np

    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    model.compile("sgd", "sparse_categorical_crossentropy")
    x, y = np.zeros((8, 3), "float32"), np.zeros(8, "int32")
    # 4 steps an epoch: steps 2-4 of epochs 2 and 3 are timed.
    seconds = common.fit_step_seconds(model, x, y, epochs=3, batch_size=2)
    assert len(seconds) == 6 and all(value > 0 for value in seconds)
    with pytest.raises(ValueError, match="at least 2"):
        common.fit_step_seconds(model, x, y, epochs=1, batch_size=2)


@pytest.mark.slow
def test_precision_step_time_on_any_policy():
    for policy in ("float32", "mixed_bfloat16"):
        assert precision.step_seconds("cnn", policy, False, steps=3, repeats=1) > 0


def test_guard_row_compares_the_model_with_and_without_its_guard():
    rows = common.Rows(command="python -m bench guard", device="test machine")
    guard.run(rows, kinds=("cnn",), repeats=1, steps=2)
    [row] = rows.rows
    assert row[0] == "guard-cnn" and re.fullmatch(r"guarded \d+/s vs unguarded \d+/s", row[2])
    with pytest.raises(ValueError, match="cnn and/or lstm"):
        guard.run(rows, kinds=("bert",))


@pytest.mark.slow
def test_streaming_rows_read_every_image_mode_of_a_generated_csv():
    rows = common.Rows(command="python -m bench streaming", device="test machine")
    user_data.run_streaming(rows, sizes=(90,), image_size=32, batch=16)
    [row] = rows.rows
    assert row[0] == "streaming-0k" and "(72 in train)" in row[1]  # 10% + 10% held out
    assert re.fullmatch(
        r"pipeline \d+/s vs model \d+/s; resident memory \d+ MiB \(before the first: \d+ MiB\)",
        row[2],
    )


@pytest.mark.slow  # two real runs of the main job's model (about a minute)
def test_main_job_row_times_the_feature_cache_on_and_off(data_dir):
    rows = common.Rows(command="python -m bench main-job", device="test machine")
    main_job.run(rows, epochs=1, limit=64, test_limit=32, data_dir=data_dir)
    [row] = rows.rows
    assert row[0] == "main-job" and "feature cache on vs off" in row[1]
    assert re.fullmatch(
        r"\d+ s \(features \d+ s\) vs \d+ s; test accuracy 0\.\d{4} vs 0\.\d{4}", row[2]
    ), row[2]
    assert re.fullmatch(r"\d+\.\d\dx", row[3])


@pytest.mark.slow  # two training processes (one LoRA, one full) of the tiny BERT
def test_lora_rows_compare_lora_with_full_fine_tuning(data_dir):
    from bench import lora

    rows = common.Rows(command="python -m bench lora", device="test machine")
    tiny = {"architecture": "tiny", "test_limit": 32, "text_length": 16}
    lora.run(rows, limit=64, repeats=1, rank=2, data_dir=data_dir, **tiny)
    figures = {row[0]: row for row in rows.rows}
    assert list(figures) == [
        "lora-trainable",
        "lora-samples-per-second",
        "lora-epoch-seconds",
        "lora-peak-rss-mib",
        "lora-test-accuracy",
    ]
    trainable, full = figures["lora-trainable"][2].split(" of ")[0].split(" vs ")
    assert int(trainable.replace(",", "")) < int(full.replace(",", ""))
    assert all(re.fullmatch(r"\d+\.\d+x", row[3]) for row in rows.rows)


@pytest.mark.slow
def test_quantize_rows_put_each_mode_beside_float(data_dir):
    from bench import quantize

    rows = common.Rows(command="python -m bench quantize", device="test machine")
    quantize.run(
        rows,
        kinds=("cnn", "bert"),
        repeats=2,
        epochs=1,
        limit=64,
        test_limit=32,
        data_dir=data_dir,
        architecture="tiny",
    )
    figures = [row[1] for row in rows.rows]
    assert figures == [
        *(f"cnn (fashion_mnist): {mode} vs float" for mode in ("float", "int8", "int4", "float8")),
        "cnn (fashion_mnist): TFLite int8 vs float",
        *(f"bert (rt_snippets): {mode} vs float" for mode in ("float", "int8", "int4", "float8")),
    ]
    for row in rows.rows:
        assert re.search(r"MB; predict [\d.]+ ms at batch 1, .* test accuracy [\d.]+", row[2])
    assert rows.rows[0][3] == "1.00x size" and float(rows.rows[1][3][:-6]) < 1  # int8 is smaller


def one_layer_minilm(folder) -> str:
    """The packaged MiniLM cut to its first layer: a real checkpoint that trains in seconds."""
    import shutil

    from safetensors.numpy import load_file, save_file

    from multimodal_tf.pretrained import minilm_checkpoint

    source = minilm_checkpoint()
    with open(f"{source}/config.json", encoding="utf-8") as file:
        config = json.load(file)
    (folder / "config.json").write_text(json.dumps({**config, "num_hidden_layers": 1}))
    tensors = load_file(f"{source}/model.safetensors")
    kept = {name: value for name, value in tensors.items() if ".layer." not in name}
    kept.update({name: value for name, value in tensors.items() if ".layer.0." in name})
    save_file(kept, str(folder / "model.safetensors"))
    for name in ("vocab.txt", "tokenizer_config.json", "special_tokens_map.json"):
        shutil.copy(f"{source}/{name}", folder / name)
    return str(folder)


@pytest.mark.slow  # two training processes of a one-layer MiniLM
def test_bert_peers_rows_put_ours_beside_each_peer(data_dir, tmp_path):
    from bench import bert_peers

    rows = common.Rows(command="python -m bench bert-peers", device="test machine")
    sides = ("ours", "keras-hub-float32")
    results = bert_peers.run(
        rows,
        limit=64,
        repeats=1,
        data_dir=data_dir,
        sides=sides,
        checkpoint=one_layer_minilm(tmp_path),
        test_limit=64,
        text_length=16,
    )
    for side in sides:
        (figures,) = results[side]
        assert figures["steps"] == 2 and 0 <= figures["test_accuracy"] <= 1
        assert 0 < figures["epoch_seconds"] < figures["start_to_trained_seconds"]
        assert figures["samples_per_second"] > 0 and figures["peak_rss_mib"] > 100
    assert results["keras-hub-float32"][0]["precision"] == "float32"
    assert [row[0] for row in rows.rows] == [
        "bert-peers-samples-per-second",
        "bert-peers-epoch-seconds",
        "bert-peers-start-to-trained-seconds",
        "bert-peers-peak-rss-mib",
        "bert-peers-test-accuracy",
    ]
    ids = [record["id"] for record in rows.records()]
    assert all(re.fullmatch(r"bert-peers-[a-z-]+-[a-z0-9]+-\d{4}-\d\d-\d\d", id_) for id_ in ids), (
        ids
    )
    for row in rows.rows:
        assert row[2].startswith("ours ") and "; keras-hub-float32 " in row[2]
        assert re.fullmatch(
            r"\d+\.\d\dx the (rate|speed|memory) of keras-hub-float32|[+-]\d+\.\d pt vs "
            r"keras-hub-float32",
            row[3],
        ), row[3]


def test_bert_peers_refuses_an_unknown_side():
    from bench import bert_peers

    with pytest.raises(ValueError, match="`side` must be one of"):
        bert_peers.measure("pytorch", limit=8, text_length=8, batch_size=8)


@pytest.mark.slow
@pytest.mark.parametrize("side", ["torch-float32", "torch-bfloat16"])
def test_the_torch_sides_fine_tune_where_torch_imports(side, data_dir, tmp_path):
    pytest.importorskip("torch")
    from bench import bert_peers

    figures = bert_peers.measure(
        side,
        checkpoint=one_layer_minilm(tmp_path),
        test_limit=64,
        data_dir=data_dir,
        limit=64,
        text_length=16,
        batch_size=32,
    )
    assert figures["steps"] == 2 and 0 <= figures["test_accuracy"] <= 1
    assert figures["precision"] == ("float32" if side == "torch-float32" else "bfloat16 autocast")


@pytest.mark.slow  # two tiny training processes
def test_seeds_row_gives_mean_and_spread_over_the_seeds(data_dir):
    from bench import seeds

    rows = common.Rows(command="python -m bench seeds", device="test machine")
    extra = ["--architecture", "tiny", "--limit", "64", "--test-limit", "32", "--epochs", "1"]
    results = seeds.run(
        rows, "fashion_mnist", repeats=2, precision="float32", data_dir=data_dir, extra=extra
    )
    assert [result["config"]["seed"] for result in results] == [0, 1]
    ((benchmark, figure, value, *_),) = rows.rows
    assert benchmark == "seeds-fashion-mnist" and "seeds 0-1" in figure
    assert re.fullmatch(r"all \d+\.\d\d ± \d+\.\d\d% \(training \d+ s median, float32\)", value)
    assert rows.records()[0]["id"].startswith("seeds-fashion-mnist-float32-")


def test_seeds_summary_is_mean_and_sample_deviation():
    from bench import seeds

    assert seeds.summary([0.9, 0.92]) == "91.00 ± 1.41%"
    assert seeds.summary([0.9]) == "90.00 ± 0.00%"


@pytest.mark.slow  # a tiny CLI run and a one-layer MiniLM fine-tuned, each in its own process
def test_plain_fit_row_sets_the_plain_path_beside_the_cli(data_dir, tmp_path):
    from bench import plain_fit

    rows = common.Rows(command="python -m bench plain-fit", device="test machine")
    results = plain_fit.run(
        rows,
        limit=64,
        data_dir=data_dir,
        cli_extra=["--architecture", "tiny", "--test-limit", "64", "--epochs", "1"],
        checkpoint=one_layer_minilm(tmp_path),
        test_limit=64,
        epochs=1,
    )
    for side in ("cli", "plain"):
        assert 0 <= results[side]["test_accuracy"] <= 1 and results[side]["train_seconds"] > 0
    ((benchmark, figure, value, ratio, *_),) = rows.rows
    assert benchmark == "plain-fit-rt-snippets" and "first 64 snippets" in figure
    assert re.fullmatch(r"plain \d+\.\d\d% \(\d+ s\) vs CLI \d+\.\d\d% \(\d+ s\)", value)
    difference = (results["plain"]["test_accuracy"] - results["cli"]["test_accuracy"]) * 100
    assert ratio == f"{difference:+.2f} pt"
    assert re.fullmatch(r"plain-fit-rt-snippets-[a-z0-9]+-\d{4}-\d\d-\d\d", rows.records()[0]["id"])
