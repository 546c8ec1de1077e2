"""What `bench.report` writes around the rows: questions, methods, verdicts, tables, plot.

Text cites a figure as `{field:row-id}` (`{ratio:epoch-wait-avx512bf16-2026-11-27}`);
the report fills it from bench/results.jsonl, so no figure is copied here.
"""

METHODS = {
    "document": "whole runs alternated run by run (a fresh model, one fit of all the epochs, "
    "tracing included); the median of the paired ratios",
    "precision": "the median training-step time per policy, steps timed inside the epochs after "
    "the first (`bench.common.fit_step_seconds`); ratio: float32's step over the row's",
    "pipeline": "the tf.data pipeline alone against the model's training step alone, medians of "
    "repeated runs; memory: resident memory after streaming",
    "guard": "alternated fits with and without the `InputGuard`; the median of the paired ratios",
    "tuner": "resident memory of the process after the given trials of a RandomSearch",
    "gpu": "`bash bench/gpu_device.sh` under `KERAS_BACKEND=jax`; median steps/s per policy",
    "main-job": "the main job's training seconds, feature cache on against off, alternated",
    "epoch-wait": "the same CNN fit with tf.data's autotuning model off (ours) and on, alternated",
    "test-suite": "wall clock of the suite",
    "streaming": "one pass over the training split of a generated CSV (`data.user.from_csv`), "
    "against the CNN's training step alone on a batch in memory; resident memory after each size",
    "predict-batch": "`runs.predict_batch` consumed row by row over a generated CSV, with a tiny "
    "run; resident memory after each size",
    "lora": "each side a fresh process training as `train` does (one epoch), alternated; steady "
    "samples/s: the median step after the first 5; peak memory: the process' ru_maxrss",
    "bert-peers": "each side a fresh process (ours, keras-hub's BertTextClassifier, transformers + "
    "torch), the order rotating each repetition; steady samples/s: the median step after the "
    "first 5; epoch: the training call, tracing included; memory: the process' ru_maxrss",
    "plain-fit": "seed 0, each side a fresh process: `multimodal-tf train --dataset rt_snippets` "
    "and `build_bert_classifier`'s default compile + `model.fit` for the same epochs and batch; "
    "both score the whole test split",
    "seeds": "the default `multimodal-tf train` of a dataset once per seed, each in its own "
    "process; mean ± sample standard deviation of metrics.json's test accuracy",
    "quantize": "`runs.quantize_run` per mode on one trained run; latency: the median of timed "
    "`predict_on_batch` calls after two warm-up calls",
}

# (title, benchmarks (exact names), question, verdict)
SECTIONS = [
    (
        "document-vs-us: the document's §4.1 CNN",
        ("document-vs-us",),
        "Does our engine train the document's CNN at least 2x as fast as the document's own code?",
        "Not met on either CPU class measured: {ratio:document-vs-us-avx2-2026-11-26} on AVX2 "
        "(float32 is best there), {ratio:document-vs-us-stability-avx512bf16-2026-11-27} on "
        "AVX512-BF16 (median of four runs: "
        "{value:document-vs-us-stability-avx512bf16-2026-11-27}); rerun after the training "
        "step was traced once instead of twice: {ratio:document-vs-us-avx512bf16-2026-12-07} "
        "(the machine ran both sides at half the rates of 2026-11-27); with Adam's update "
        "fused: {ratio:document-vs-us-avx512bf16-2026-12-07-2} (the fused update alone: +8% "
        "samples/s for our side, alternated 4-epoch runs, 3 a side). The CNN's step is bound "
        "by its convolutions; AMX's bfloat16 ({ratio:precision-cnn-bfloat16-amx-issue13} on the "
        "step) gave 1.67x end to end (issue 27), not 2x.",
    ),
    (
        "document-vs-us-lstm: the document's §4.2 stacked LSTM",
        ("document-vs-us-lstm",),
        "Does our engine train the stacked LSTM faster than the document's code, at least as well?",
        "Faster and more accurate, by little end to end: "
        "{ratio:document-vs-us-lstm-stability-avx512bf16-2026-11-27} over four runs "
        "({value:document-vs-us-lstm-stability-avx512bf16-2026-11-27}). Its epochs are 5 batches, "
        "so the first epoch, in which XLA compiles, dominates a whole run.",
    ),
    (
        "epoch-wait: tf.data's autotuning at epoch starts",
        ("epoch-wait",),
        "Does ending every pipeline in `prefetched` (autotuning model off) remove the waits "
        "at epoch starts?",
        "Yes: {ratio:epoch-wait-avx512bf16-2026-11-27} faster fits "
        "({value:epoch-wait-avx512bf16-2026-11-27}). The document's `fit` on numpy arrays "
        "still pays the wait.",
    ),
    (
        "main-job: frozen MiniLM computed once (target ≥ 4x)",
        ("main-job",),
        "How much faster does the main job train with the frozen text encoder's outputs cached?",
        "About 3x, at the same accuracy: {ratio:main-job-20-epochs-avx512bf16-2026-11-27} "
        "({value:main-job-20-epochs-avx512bf16-2026-11-27}); one repetition. The 4x target is out "
        "of reach on this CPU class: the part that must train caps it at "
        '{ratio:main-job-step-ceiling-avx512bf16-2026-11-27}. `precision="auto"` keeps the main '
        "job in float32 here; mixed_bfloat16 trains it "
        "{ratio:main-job-precision-avx512bf16-2026-11-28} "
        "faster for a point of image-only accuracy.",
    ),
    (
        "precision: the dtype policy per model and CPU class",
        ("precision-cnn", "precision-bert", "precision-fusion", "precision-lstm"),
        "Which dtype policy and XLA setting train each model fastest on each machine class, as "
        '`precision="auto"` and `jit_compile="auto"` decide?',
        "AVX2: float32 for every model (bfloat16 CNN "
        "{ratio:precision-cnn-bfloat16-xla-off-avx2-2026-11-26}). "
        "AVX512-BF16 without AMX (AMD EPYC): mixed_bfloat16 for the CNN "
        "({ratio:precision-cnn-bfloat16-xla-off-avx512bf16-2026-11-28}, drifting between runs) and "
        "BERT ({ratio:precision-bert-bfloat16-xla-off-avx512bf16-2026-11-28}); float32 + XLA "
        "for the LSTM ({ratio:precision-lstm-float32-xla-on-avx512bf16-2026-11-28}); the "
        "fusion model measures {ratio:precision-fusion-bfloat16-xla-off-avx512bf16-2026-11-28} "
        "in bfloat16, which auto picks for it since 2026-12-07 (until then it kept float32, the "
        "precision its documented results were chosen in). AMX (issue 13): bfloat16 for "
        "all but recurrent models (LSTM {ratio:precision-lstm-bfloat16-amx-issue13}). An Intel "
        "Xeon with AVX512-BF16 and AVX512-FP16 whose AMX is not exposed: float32 for every model, "
        "bfloat16 is slower there (CNN "
        "{ratio:precision-cnn-bfloat16-step-xla-off-avx512fp16-2026-12-08}, "
        "BERT {ratio:precision-bert-bfloat16-step-xla-off-avx512fp16-2026-12-08}, fusion "
        "{ratio:precision-fusion-bfloat16-step-xla-off-avx512fp16-2026-12-08}). XLA: on for "
        "the LSTM and BERT, off for convolutions and 16-bit models on CPUs.",
    ),
    (
        "gpu: mixed precision on a GPU (target ≥ 2.5x)",
        ("gpu-bert-base", "gpu-fusion"),
        "How much faster are the mixed policies than float32 on one GPU, with the same model code?",
        "Met against true float32 (BERT-base mixed_bfloat16 "
        "{ratio:gpu-bert-base-bfloat16-xla-auto-highest-gpu-2026-11-26}), missed against JAX's "
        "TF32 default ({ratio:gpu-bert-base-bfloat16-xla-auto-gpu-2026-11-26}), where Hopper's "
        "dense TF32 rate caps it near 2x. The small fusion model gains nothing "
        '({ratio:gpu-fusion-bfloat16-xla-auto-gpu-2026-11-26}): pass `precision="float32"` for it.',
    ),
    (
        "pipeline: input pipelines against the models (target ≥ 10x)",
        ("pipeline-images", "pipeline-texts", "pipeline-memory"),
        "Do our tf.data pipelines deliver examples at least 10x as fast as the models consume "
        "them?",
        "Yes: images {ratio:pipeline-images-avx512bf16-2026-11-28}, texts "
        "{ratio:pipeline-texts-avx512bf16-2026-11-28} on AVX512-BF16; streaming more data does not "
        "grow memory beyond the allocator's noise.",
    ),
    (
        "guard: the InputGuard's cost",
        ("guard-cnn", "guard-lstm"),
        "What does the `InputGuard` that refuses NaN cost in training speed?",
        "Nothing measurable: CNN {ratio:guard-cnn-avx512bf16-2026-11-28}, LSTM "
        "{ratio:guard-lstm-avx512bf16-2026-11-28} (paired, within the machine's noise).",
    ),
    (
        "tuner-memory: memory over a search",
        ("tuner-memory",),
        "Does a long keras-tuner search grow the process' memory, and does "
        "`--trials-per-process` bound it?",
        "Memory grows with every trial in one process (tensorflow/tensorflow#61791, "
        "keras-team/keras#17458); `--trials-per-process 2` keeps each process flat "
        "({value:tuner-memory-per-process-avx2-2026-11-26}).",
    ),
    (
        "lora: LoRA against full fine-tuning of MiniLM (issue 26)",
        (
            "lora-trainable",
            "lora-samples-per-second",
            "lora-epoch-seconds",
            "lora-peak-rss-mib",
            "lora-test-accuracy",
        ),
        "With the same budget (one epoch of 1,600 rt_snippets, 64 tokens, batch 32), what does "
        "LoRA of rank 8 save against fine-tuning all of MiniLM, and what does it cost in accuracy?",
        "At the first default learning rate, 5e-4 (the LoRA paper's, for 60 epochs), one epoch "
        "left LoRA predicting one class: test accuracy "
        "{value:lora-test-accuracy-rank-8-avx2-2026-12-06} (AVX2, float32). The rate was then "
        "chosen on validation (10% of the 1,600 carved off): 0.715 / 0.790 / 0.816 / 0.794 at "
        "2e-3 / 5e-3 / 1e-2 / 2e-2, so LoRA's default is now 1e-2 "
        "(`models.lora.LORA_LEARNING_RATE`). With it, on AVX512-BF16 under mixed_bfloat16, LoRA "
        "trains {ratio:lora-trainable-rank-8-avx512bf16-2026-12-07} of the parameters, steps "
        "{ratio:lora-samples-per-second-rank-8-avx512bf16-2026-12-07} as fast "
        "({value:lora-samples-per-second-rank-8-avx512bf16-2026-12-07}), peaks at "
        "{ratio:lora-peak-rss-mib-rank-8-avx512bf16-2026-12-07} of the memory and scores "
        "{value:lora-test-accuracy-rank-8-avx512bf16-2026-12-07}: better than full fine-tuning "
        "on this budget. One repetition, same seed; the speed ratios are rough.",
    ),
    (
        "bert-peers: fine-tuning BERT against keras-hub and transformers + torch (issue 27)",
        (
            "bert-peers-samples-per-second",
            "bert-peers-epoch-seconds",
            "bert-peers-start-to-trained-seconds",
            "bert-peers-peak-rss-mib",
            "bert-peers-test-accuracy",
        ),
        "Does one epoch of fine-tuning MiniLM with `train(build_bert_classifier)` run at least "
        "as fast as plain keras-hub and as transformers + torch on the same CPU, "
        "at the same accuracy?",
        "On AVX512-BF16 (2 cores), with the step traced once and Adam's update fused "
        "(one kernel per weight): steady rate "
        "{ratio:bert-peers-samples-per-second-avx512bf16-2026-12-07-2} "
        "({value:bert-peers-samples-per-second-avx512bf16-2026-12-07-2}); the epoch: "
        "{ratio:bert-peers-epoch-seconds-avx512bf16-2026-12-07-2}, parity within the noise but "
        "not above it (the three repetitions' ratios 0.94-1.03x): our first step still costs "
        "about 4 s (tracing 2-3 s, the graph's first run 1.5-2 s) against about 1 s for torch "
        '(docs/benchmarks.md, "Fine-tuning BERT: where the time goes"). From the process\' start '
        "to a trained model: {ratio:bert-peers-start-to-trained-seconds-avx512bf16-2026-12-07-2}; "
        "peak memory: {ratio:bert-peers-peak-rss-mib-avx512bf16-2026-12-07-2}; accuracy "
        "{ratio:bert-peers-test-accuracy-avx512bf16-2026-12-07-2} (one seed per side: the same "
        "scores every repetition). Before the fused Adam: epoch "
        "{ratio:bert-peers-epoch-seconds-avx512bf16-2026-12-07}. Not measured on AMX or AVX2 yet.",
    ),
    (
        "seeds: the default runs across seeds (issue 28)",
        ("seeds-fashion-mnist", "seeds-japanese-vowels", "seeds-twemoji-categories"),
        "Do the builders' default runs hold across seeds, not only for seed 0?",
        "The document's CNN on fashion_mnist, under auto (mixed_bfloat16) and with the fused "
        "Adam: {value:seeds-fashion-mnist-auto-avx512bf16-2026-12-08} over seeds 0-4 (each "
        "seed 91.96-92.41%; seed 0 scored 92.11% before the fused Adam, within this spread). "
        "The stacked LSTM on japanese_vowels: {value:seeds-japanese-vowels-auto-avx512bf16-"
        "2026-12-07} over seeds 0-4; seed 0, the reference row's 97.03%, is the best of the "
        "five, so the reference overstates the typical run by about a point. The main job under "
        "auto: {value:seeds-twemoji-categories-auto-avx512bf16-2026-12-07} (seed 0: 92.91%). "
        "BERT is not measured across seeds yet.",
    ),
    (
        "plain-fit: the plain Keras path against the CLI (issue 28)",
        ("plain-fit-rt-snippets",),
        "Does a notebook user who builds the BERT classifier with its default compile and calls "
        "`model.fit` score within 1 point of the tuned CLI run?",
        "Yes, for seed 0 on AVX512-BF16: {value:plain-fit-rt-snippets-avx512bf16-2026-12-08} "
        "({ratio:plain-fit-rt-snippets-avx512bf16-2026-12-08}), though the plain path keeps "
        "Keras' float32, a constant learning rate and the pooler over [CLS] where the CLI trains "
        "under auto precision with warmup and decay and mean pooling. One seed per side.",
    ),
    (
        "streaming: the user's own files, streamed (issue 29)",
        ("streaming-10k", "streaming-50k", "streaming-100k"),
        "Does `from_csv` stream 10k, 50k and 100k rows of image files in flat memory, and does it "
        "keep ahead of the model's training step?",
        "Yes. Memory grows little: {value:streaming-100k-avx512bf16-2026-12-07} (the CSV's "
        "table and tf.data's buffers; no image is held). PNGs are read and decoded in the graph "
        "(`images.decode_natively`, the faithful decoder's pixels), so the pipeline runs at "
        "{ratio:streaming-10k-avx512bf16-2026-12-07} to "
        "{ratio:streaming-100k-avx512bf16-2026-12-07} of the document's CNN step rate at 32x32 "
        "on AVX512-BF16, quiet. Decoded in Python it ran "
        "at {ratio:streaming-10k-avx2-2026-12-06} to {ratio:streaming-100k-avx2-2026-12-06} on "
        "AVX2, three other jobs sharing the two cores (0.39x to 0.43x on AVX512-BF16, quiet, "
        "before the change; not recorded). Plain JPEGs decode in the graph too (since these rows); "
        "JPEGs with EXIF or CMYK, GIF, BMP and WebP in Python.",
    ),
    (
        "predict-batch: a large CSV through `predict --batch` (issue 30)",
        ("predict-batch-1k", "predict-batch-10k", "predict-batch-100k"),
        "Does `predict --batch` stream 1k, 10k and 100k rows in flat memory, at what rate?",
        "Memory stays flat, and the rate grows with the file. After 100k rows: "
        "{value:predict-batch-100k-predict-batch-over-100-000-rows-image-text-tiny-twemoji-"
        "run-avx2-2026-12-07}. The start-up (loading the run, the first traced "
        "batch) is spread over more rows as the file grows; 32 rows a batch, one pass each, "
        "texts tokenised in one traced call. Measured on a quiet 2-core AVX2 machine.",
    ),
    (
        "quantize: Keras' weight quantization per model (issue 26)",
        ("quantize-cnn", "quantize-lstm", "quantize-bert", "quantize-fusion"),
        "What do int8, int4 and float8 weights save in file size, and cost in accuracy and CPU "
        "latency, for each of our models?",
        "Size: BERT {ratio:quantize-bert-bert-rtsnippets-int8-vs-float-avx512bf16-2026-12-07} "
        "(int8) and {ratio:quantize-bert-bert-rtsnippets-int4-vs-float-avx512bf16-2026-12-07} "
        "(int4) of the float model, the fusion model "
        "{ratio:quantize-fusion-fusion-twemojicategories-int8-vs-float-avx512bf16-2026-12-07} "
        "and {ratio:quantize-fusion-fusion-twemojicategories-int4-vs-float-avx512bf16-2026-12-07}"
        "; int8 costs at most 0.14 points of test accuracy, int4 up to 0.56 (the fusion model); "
        "the CNN "
        "shrinks less (its convolutions stay float) and the LSTM not at all (Keras quantizes "
        "Dense, EinsumDense and Embedding only). float8 shrinks nothing: Keras keeps the float "
        "kernel beside its scales (a training format for GPUs with float8 units). Speed: on this "
        "CPU every quantized Keras model predicts slower than the float one (BERT int8: "
        "{value:quantize-bert-bert-rtsnippets-int8-vs-float-avx512bf16-2026-12-07}), the weights "
        "being dequantized on every call; for CPU speed and size together, the TFLite int8 export "
        "of the CNN and LSTM is the one to ship. All models trained 3 epochs on 4,000 examples "
        "(the LSTM: its defaults), one quiet 2-core AVX512-BF16 machine, medians of 10 calls.",
    ),
    (
        "test-suite: how long the suite takes",
        ("test-suite",),
        "Does the default suite fit CI's budget of about 25 minutes on a 2-core machine?",
        "Yes where measured since the suite runs on two workers: on AVX512-BF16, "
        "{value:test-suite-rehearse-avx512bf16-2026-12-07}. Issue 31 measured "
        "{value:test-suite-amx-issue31} on a loaded AMX machine, before the two workers; AMX is "
        "not measured since.",
    ),
]

# docs/results.md tables: marker name -> the benchmark and its command column
DOC_TABLES = {
    "reference": {"benchmark": "reference", "command": "command"},
    "twemoji-selection": {
        "benchmark": "twemoji-selection",
        "command": "arguments of `multimodal-tf train`",
        "strip": "multimodal-tf train ",
    },
    "twemoji-comparison": {"benchmark": "twemoji-comparison", "command": "command"},
    "twemoji-facebook": {"benchmark": "twemoji-facebook"},
    "twemoji-3.0.0": {"benchmark": "twemoji-3.0.0"},
    "twemoji-3.0.0-comparison": {"benchmark": "twemoji-3.0.0-comparison", "command": "command"},
    "twemoji-missing": {"benchmark": "twemoji-missing"},
    "twemoji-style": {
        "benchmark": "twemoji-style",
        "command": "arguments of `multimodal-tf train`",
        "strip": "multimodal-tf train ",
    },
    "auto-vs-float32": {"benchmark": "auto-vs-float32", "command": "command"},
    "tflite": {"benchmark": "tflite"},
    "distillation": {"benchmark": "distillation"},
    "seeds": {
        "benchmarks": (
            "seeds-fashion-mnist",
            "seeds-japanese-vowels",
            "seeds-twemoji-categories",
            "plain-fit-rt-snippets",
        ),
        "command": "command",
    },
    "quantize": {
        "benchmarks": ("quantize-cnn", "quantize-lstm", "quantize-bert", "quantize-fusion"),
        "command": "command",
    },
}

# README headline table: (what, figures, row id, page where the row is shown)
HEADLINE = [
    (
        "main job: image + text fusion, Twemoji test (float32)",
        "{test: all:twemoji3-fusion-aug-wd} "
        "(Facebook's artwork {test_facebook: all:twemoji3-fusion-aug-wd})",
        "twemoji3-fusion-aug-wd",
        "docs/results.md",
    ),
    (
        "fusion against text alone",
        "{difference:twemoji3-fusion-vs-text}, exact McNemar p = {p:twemoji3-fusion-vs-text}",
        "twemoji3-fusion-vs-text",
        "docs/results.md",
    ),
    (
        "half the rows missing a modality",
        "{50%:missing-modality-dropout-02} (without modality dropout "
        "{50%:missing-no-modality-dropout})",
        "missing-modality-dropout-02",
        "docs/results.md",
    ),
    (
        "frozen MiniLM computed once",
        "main job trains {ratio:main-job-20-epochs-avx512bf16-2026-11-27} faster",
        "main-job-20-epochs-avx512bf16-2026-11-27",
        "bench/RESULTS.md",
    ),
    (
        "§4.1 CNN against the document's code",
        "{ratio:document-vs-us-stability-avx512bf16-2026-11-27} (target 2x)",
        "document-vs-us-stability-avx512bf16-2026-11-27",
        "bench/RESULTS.md",
    ),
    (
        "§4.1 CNN, Fashion-MNIST test",
        "{test accuracy:reference-cnn-fashion-mnist-2026-12-07} "
        "(reference {reference:reference-cnn-fashion-mnist-2026-12-07})",
        "reference-cnn-fashion-mnist-2026-12-07",
        "docs/results.md",
    ),
    (
        "§4.2 LSTM, JapaneseVowels test",
        "{test accuracy:reference-lstm-japanese-vowels} "
        "(reference {reference:reference-lstm-japanese-vowels})",
        "reference-lstm-japanese-vowels",
        "docs/results.md",
    ),
    (
        "§4.3 MiniLM fine-tuned, RT snippets test",
        "{test accuracy:reference-bert-rt-snippets} "
        "(reference {reference:reference-bert-rt-snippets})",
        "reference-bert-rt-snippets",
        "docs/results.md",
    ),
]

# docs/results.png: one panel each, bars (label, row id, figure field)
PLOT = [
    {
        "title": "ours against the document's code (whole runs; target 2x)",
        "xlabel": "speed ratio, ours / document",
        "line": 2.0,
        "bars": [
            ("CNN, AVX2", "document-vs-us-avx2-2026-11-26", "ratio"),
            ("CNN, AVX512-BF16", "document-vs-us-stability-avx512bf16-2026-11-27", "ratio"),
            ("LSTM, AVX2", "document-vs-us-lstm-avx2-2026-11-26", "ratio"),
            ("LSTM, AVX512-BF16", "document-vs-us-lstm-stability-avx512bf16-2026-11-27", "ratio"),
        ],
    },
    {
        "title": "the document's models on real data (test accuracy, %)",
        "xlabel": "test accuracy (%)",
        "format": "%.2f",
        "xlim": (50, 100),
        "color": "tab:green",
        "bars": [
            ("CNN, Fashion-MNIST", "reference-cnn-fashion-mnist-2026-12-07", "test accuracy"),
            ("LSTM, JapaneseVowels", "reference-lstm-japanese-vowels", "test accuracy"),
            ("MiniLM, RT snippets", "reference-bert-rt-snippets", "test accuracy"),
            ("distilled 2-layer student", "distill-student-distilled", "test accuracy (2,111)"),
        ],
    },
    {
        "title": "mixed_bfloat16 step against float32, per CPU class",
        "xlabel": "speed ratio (above 1: bfloat16 faster)",
        "line": 1.0,
        "color": "tab:orange",
        "bars": [
            ("CNN, AVX2", "precision-cnn-bfloat16-xla-off-avx2-2026-11-26", "ratio"),
            ("CNN, AVX512-BF16", "precision-cnn-bfloat16-xla-off-avx512bf16-2026-11-28", "ratio"),
            ("CNN, AMX", "precision-cnn-bfloat16-amx-issue13", "ratio"),
            (
                "CNN, Xeon, no AMX",
                "precision-cnn-bfloat16-step-xla-off-avx512fp16-2026-12-08",
                "ratio",
            ),
            ("BERT, AVX2", "precision-bert-bfloat16-xla-off-avx2-2026-11-26", "ratio"),
            ("BERT, AVX512-BF16", "precision-bert-bfloat16-xla-off-avx512bf16-2026-11-28", "ratio"),
            ("BERT, AMX", "precision-bert-bfloat16-amx-issue13", "ratio"),
            (
                "BERT, Xeon, no AMX",
                "precision-bert-bfloat16-step-xla-off-avx512fp16-2026-12-08",
                "ratio",
            ),
            ("fusion, AVX2", "precision-fusion-bfloat16-xla-off-avx2-2026-11-26", "ratio"),
            (
                "fusion, AVX512-BF16",
                "precision-fusion-bfloat16-xla-off-avx512bf16-2026-11-28",
                "ratio",
            ),
            ("fusion, AMX", "precision-fusion-bfloat16-amx-issue13", "ratio"),
            (
                "fusion, Xeon, no AMX",
                "precision-fusion-bfloat16-step-xla-off-avx512fp16-2026-12-08",
                "ratio",
            ),
            ("LSTM, AVX2", "precision-lstm-bfloat16-xla-off-avx2-2026-11-26", "ratio"),
            ("LSTM, AVX512-BF16", "precision-lstm-bfloat16-xla-off-avx512bf16-2026-11-28", "ratio"),
            ("LSTM, AMX", "precision-lstm-bfloat16-amx-issue13", "ratio"),
            (
                "LSTM, Xeon, no AMX",
                "precision-lstm-bfloat16-step-xla-off-avx512fp16-2026-12-08",
                "ratio",
            ),
        ],
    },
    {
        "title": "fusion against single modalities (Twemoji test, %)",
        "xlabel": "test accuracy (%)",
        "format": "%.2f",
        "xlim": (40, 100),
        "color": "tab:purple",
        "bars": [
            ("fusion, both modalities", "twemoji-fusion-aug-wd", "test: all"),
            ("fusion, text only", "twemoji-fusion-aug-wd", "test: text only"),
            ("fusion, image only", "twemoji-fusion-aug-wd", "test: image only"),
            ("text model alone", "twemoji-text-e40", "test: all"),
            ("image model alone", "twemoji-image-aug-wd", "test: all"),
        ],
    },
]
