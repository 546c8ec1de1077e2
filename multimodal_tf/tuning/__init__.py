"""keras-tuner search: hypermodels for every builder, trained by our engine.

Each hypermodel builds with the library's builder, under the dtype policy of
its `TrainingConfig`, and fits through `multimodal_tf.training.fit`, so a
trial trains exactly like `multimodal-tf train` (precision, XLA, loss
scaling, warmup schedule, early stopping). The default value of every
hyperparameter is the document's model (or our builder's default where the
document has no such knob), so the document's model is one point of each
search space and a tuner's first trial.

Example (datasets assumed; notebook 05 runs a search)::

    import keras_tuner
    from multimodal_tf.tuning import CNNHyperModel
    tuner = keras_tuner.RandomSearch(CNNHyperModel(), objective="val_accuracy", max_trials=10,
                                     directory="tuning", project_name="cnn")
    tuner.search(train_data, validation_data=validation_data, epochs=5)
    best_model = tuner.get_best_models(1)[0]

| concern | module |
|---|---|
| `EngineHyperModel`: trials build and fit as `train` does | `engine.py` |
| the search spaces of the CNN, LSTM, BERT and fusion models | `hypermodels.py` |
| `make_tuner` by name, `leaderboard` of completed trials | `tuners.py` |
"""

from multimodal_tf.tuning.engine import EngineHyperModel
from multimodal_tf.tuning.hypermodels import (
    BertHyperModel,
    CNNHyperModel,
    LSTMHyperModel,
    MultimodalHyperModel,
)
from multimodal_tf.tuning.tuners import leaderboard, make_tuner

__all__ = [
    "BertHyperModel",
    "CNNHyperModel",
    "EngineHyperModel",
    "LSTMHyperModel",
    "MultimodalHyperModel",
    "leaderboard",
    "make_tuner",
]
