"""The multimodal classifier: per-modality encoders → fusion → head.

Inputs, by name (the same names the data pipelines, export signatures and
the command line use):

| modality   | inputs                                                    |
|------------|-----------------------------------------------------------|
| `image`    | `image`: float `(batch, height, width, channels)`         |
| `sequence` | `sequence`: float `(batch, time, features)`, post-padded  |
| `text`     | `token_ids`, `padding_mask`, `segment_ids`: int32         |
|            | `(batch, sequence_length)` from the text preprocessor     |
| `tabular`  | `tabular`: float `(batch, num_features)`, a FeatureSpace's |
|            | encoding of numeric and categorical columns               |

plus one presence flag per modality, `<modality>_present` (float,
`(batch,)`, 1 present / 0 absent). Each modality is encoded by the same
builder its single-modality classifier uses (`build_image_encoder`,
`build_sequence_encoder`, `build_text_encoder`). An `InputGuard` in front of
the image and sequence encoders refuses NaN or infinity in present examples
and feeds zeros for absent ones, so garbage in an absent modality is never
read, in prediction or in training.
"""

from __future__ import annotations

import dataclasses

import keras

from multimodal_tf.models.bert import (
    TextEncoderConfig,
    build_text_encoder,
    default_learning_rate,
    text_inputs,
)
from multimodal_tf.models.cnn import ImageEncoderConfig, build_image_encoder
from multimodal_tf.models.dtypes import resolve_dtype
from multimodal_tf.models.fusion import ModalityDropout, ModalityFusion
from multimodal_tf.models.guards import InputGuard
from multimodal_tf.models.heads import (
    TASKS,
    classification_layer,
    compile_classifier,
    regression_head,
)
from multimodal_tf.models.lstm import SequenceEncoderConfig, build_sequence_encoder
from multimodal_tf.models.tabular import TabularEncoderConfig, build_tabular_encoder
from multimodal_tf.validation import check_choice, check_config, check_positive_int, check_rate

MODALITIES = ("image", "sequence", "text", "tabular")
_CONFIG_CLASSES = {
    "image": ImageEncoderConfig,
    "sequence": SequenceEncoderConfig,
    "text": TextEncoderConfig,
    "tabular": TabularEncoderConfig,
}


def presence_input_name(modality: str) -> str:
    """The name of a modality's presence-flag input, e.g. `"image_present"`."""
    return f"{modality}_present"


def _as_config(modality: str, value):
    """Accepts a config object, a dict of its fields, or None."""
    return check_config(modality, _CONFIG_CLASSES[modality], value)


def _modality_inputs(modality: str, config) -> dict:
    if modality == "image":
        return {"image": keras.Input(shape=config.input_shape, name="image")}
    if modality in ("sequence", "tabular"):
        return {modality: keras.Input(shape=config.input_shape, name=modality)}
    return text_inputs(config.sequence_length)


_ENCODER_BUILDERS = {
    "image": build_image_encoder,
    "sequence": build_sequence_encoder,
    "text": build_text_encoder,
    "tabular": build_tabular_encoder,
}


def _encode(modality: str, config, encoder_input, dtype):
    """The modality's encoder applied to its input.

    The text encoder's dropout is a layer of this model (`text_dropout`), so
    that a frozen text encoder is a fixed function of the text, whose outputs
    the training engine can compute once (`training.feature_cache`).
    """
    if modality != "text":
        encoder = _ENCODER_BUILDERS[modality](config, name=f"{modality}_encoder", dtype=dtype)
        return encoder(encoder_input)
    encoder = build_text_encoder(
        dataclasses.replace(config, dropout=0.0), name="text_encoder", dtype=dtype
    )
    encoded = encoder(encoder_input)
    if config.dropout:
        encoded = keras.layers.Dropout(config.dropout, name="text_dropout", dtype=dtype)(encoded)
    return encoded


def build_multimodal_model(
    num_classes: int,
    *,
    image=None,
    sequence=None,
    text=None,
    tabular=None,
    fusion: str = "concat",
    fusion_dim: int = 128,
    num_heads: int = 4,
    modality_dropout: float = 0.0,
    dropout: float = 0.1,
    seed: int | None = None,
    learning_rate: float | None = None,
    compile: bool = True,
    dtype=None,
    task: str = "classification",
    target_mean: float = 0.0,
    target_std: float = 1.0,
):
    """Builds a classifier (or regressor) over any non-empty subset of image, sequence, text.

    Args:
        num_classes: number of classes (None for `task="regression"`).
        image: `ImageEncoderConfig`, a dict of its fields, or None to leave
            the image modality out.
        sequence: `SequenceEncoderConfig`, a dict of its fields, or None.
        text: `TextEncoderConfig`, a dict of its fields, or None.
        tabular: `TabularEncoderConfig`, a dict of its fields, or None: a
            user's numeric and categorical columns, encoded by
            `data.user.tabular` (`keras.utils.FeatureSpace`).
        fusion: `"concat"`, `"gated"` or `"attention"`.
        fusion_dim: width each modality is projected to before fusion.
        num_heads: attention heads for `fusion="attention"`.
        modality_dropout: probability, during training, of marking a present
            modality absent (never all of an example's modalities).
        dropout: dropout between fusion and the output layer.
        seed: seed of the modality dropout.
        learning_rate: Adam's learning rate; None: 1e-3, or 5e-5 when the
            text encoder is a pretrained checkpoint that is fine-tuned, 1e-2
            when it is fine-tuned with LoRA (`text={"lora_rank": 8, ...}`).
        compile: whether to compile for integer labels (float targets for
            a regressor: mean squared error, MAE and RMSE).
        dtype: the dtype policy passed to each layer built (`"float32"`,
            `"mixed_float16"`, `"mixed_bfloat16"` or a `keras.DTypePolicy`);
            None: Keras' global policy.
        task: `"classification"` (a softmax over `num_classes`) or
            `"regression"` (one linear output, `models.heads.regression_head`).
        target_mean, target_std: a regressor's training targets' mean and
            standard deviation (`UserData.target_statistics()`): its output
            starts at the mean and learns in units of the spread.

    Returns:
        A functional `keras.Model` taking a dict of the inputs named in this
        module's doc and returning `(batch, num_classes)` float32
        probabilities (a regressor: `(batch, 1)` float32 values).

    Example:
    >>> model = build_multimodal_model(
    ...     10, image={"input_shape": (28, 28, 1)}, text={"sequence_length": 32},
    ...     fusion="gated", modality_dropout=0.2)
    >>> sorted(model.input)
    ['image', 'image_present', 'padding_mask', 'segment_ids', 'text_present', 'token_ids']
    """
    check_choice("task", task, TASKS)
    if task == "regression":
        if num_classes not in (None, 1):
            raise ValueError(
                "`num_classes` must be None (or 1) for `task='regression'`: a regressor has one "
                f"output; got {num_classes!r}."
            )
    else:
        num_classes = check_positive_int("num_classes", num_classes)
    configs = {
        modality: _as_config(modality, value)
        for modality, value in (
            ("image", image),
            ("sequence", sequence),
            ("text", text),
            ("tabular", tabular),
        )
    }
    configs = {modality: config for modality, config in configs.items() if config is not None}
    if not configs:
        raise ValueError(
            "At least one modality is needed: pass `image`, `sequence`, `text` and/or `tabular` "
            "(a config or a dict of its fields)."
        )
    dtype = resolve_dtype(dtype)
    fusion_layer = ModalityFusion(
        fusion, fusion_dim=fusion_dim, num_heads=num_heads, name="fusion", dtype=dtype
    )
    modality_dropout = check_rate("modality_dropout", modality_dropout)
    dropout = check_rate("dropout", dropout)

    inputs, features, flags = {}, [], []
    for modality, config in configs.items():
        modality_inputs = _modality_inputs(modality, config)
        presence = keras.Input(shape=(), name=presence_input_name(modality))
        inputs.update(modality_inputs)
        inputs[presence.name] = presence
        if modality == "text":
            encoder_input = modality_inputs
        else:  # refuses NaN in present examples, zeroes absent ones
            encoder_input = InputGuard(modality, name=f"{modality}_guard")(
                modality_inputs[modality], presence
            )
        features.append(_encode(modality, config, encoder_input, dtype))
        flags.append(presence)

    presence_matrix = keras.layers.Concatenate(name="presence", dtype=dtype)(
        [
            keras.layers.Reshape((1,), name=f"{modality}_flag", dtype=dtype)(flag)
            for modality, flag in zip(configs, flags)
        ]
    )
    presence_matrix = ModalityDropout(
        modality_dropout, seed=seed, name="modality_dropout", dtype=dtype
    )(presence_matrix)
    fused = fusion_layer(features, presence_matrix)
    if dropout:
        fused = keras.layers.Dropout(dropout, name="head_dropout", dtype=dtype)(fused)
    if task == "regression":
        outputs = regression_head(fused, target_mean, target_std)
    else:
        outputs = classification_layer(num_classes)(fused)
    model = keras.Model(inputs, outputs, name=f"multimodal_{fusion}_classifier")
    model.dtype_policy = dtype  # the container's own, which Keras' `compile` reads
    if compile:
        if learning_rate is None:
            text_config = configs.get("text")
            learning_rate = 1e-3 if text_config is None else default_learning_rate(text_config)
        compile_classifier(model, learning_rate=learning_rate)
    return model
