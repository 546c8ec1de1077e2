"""`from_csv(...).train` feeds `build_multimodal_model` directly: a training step runs."""

import warnings

import numpy as np
import pytest

from multimodal_tf import build_multimodal_model, build_text_preprocessor
from multimodal_tf.data import from_csv
from tests.data.user.helpers import animal_files
from tests.helpers import TINY_TEXT
from tests.models.test_bert_tokenizer import TINY_VOCAB


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    folder = tmp_path_factory.mktemp("animals")
    path = animal_files(folder, count=12, delimiter=";", bom=True)
    preprocessor = build_text_preprocessor(TINY_VOCAB, sequence_length=TINY_TEXT["sequence_length"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return from_csv(
            path,
            label="Species",
            image_size=(20, 20),
            batch_size=4,
            text_preprocessor=preprocessor,
            validation_split=0.25,
            test_split=0.25,
        )


@pytest.fixture(scope="module")
def model(data):
    text = {**TINY_TEXT, "vocabulary_size": len(TINY_VOCAB)}
    image = {**data.model_inputs()["image"], "filters": (4,), "dense_units": 8}
    return build_multimodal_model(data.num_classes, image=image, text=text, fusion_dim=8)


def test_a_training_step_runs_on_the_users_files(data, model):
    assert sorted(model.input) == sorted(data.train.element_spec[0])
    history = model.fit(data.train, validation_data=data.validation, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    probabilities = model.predict(data.test, verbose=0)
    assert probabilities.shape == (len(data.rows["test"]), 3)
