"""The `multimodal-tf` command line.

| piece | module |
|---|---|
| arguments, `--help`, `main` (no TensorFlow) | `parser.py` |
| the `--data` flags: the user's own files (no TensorFlow) | `data_arguments.py` |
| the verbs: train, tune, evaluate, compare, predict, export, fetch | `commands.py` |
| one line for a file error or an interrupt, and how to resume | `errors.py` |

- `multimodal-tf train`: trains the multimodal model (image + text, the
  packaged pretrained MiniLM as text encoder) on the paired Twemoji dataset,
  prints the test accuracy per modality subset and writes a run folder
  (`saved_models/<run>/model.keras` and `metrics.json`).
- `multimodal-tf tune`: a resumable keras-tuner search of the same model.
- `multimodal-tf evaluate RUN`, `compare RUN_A RUN_B`, `predict RUN INPUT...`,
  `export RUN --output DIR`, `fetch [NAME...]`.

`python -m multimodal_tf.cli` is the same command.
"""

from multimodal_tf.cli.parser import build_parser, main

__all__ = ["build_parser", "main"]
