"""`TabularEncoding`: numeric and categorical columns through a fitted FeatureSpace."""

import numpy as np
import pytest
import tensorflow as tf

from multimodal_tf.data.user import Schema, TabularEncoding
from multimodal_tf.data.user.tabular import MISSING_CATEGORY

SCHEMA = Schema(roles={"weight": "numeric", "color": "categorical", "label": "label"})
CELLS = {
    "weight": np.array([1.0, np.nan, 3.0, 5.0], np.float32),
    "color": np.array(["red", "blue", "", "red"], object),
}


@pytest.fixture(scope="module")
def encoding():
    return TabularEncoding.adapt(SCHEMA, CELLS)


def test_empty_numbers_take_the_training_mean_and_empty_categories_a_slot(encoding):
    assert encoding.columns == ["weight", "color"]
    assert encoding.fill == {"weight": 3.0}  # the mean of 1, 3 and 5; NaN left out
    vocabulary = encoding.feature_space.preprocessors["color"].get_vocabulary()
    assert set(vocabulary) == {"[UNK]", "red", "blue", MISSING_CATEGORY}
    assert encoding.width == 1 + 4  # the normalised number, then the one-hot colour


def test_encode_normalises_one_hots_and_flags_rows_with_any_cell(encoding):
    cells = {
        "weight": tf.constant([np.nan, 3.0, np.nan, 5.0]),
        "color": tf.constant(["red", "red", "", "green"]),
    }
    encoded, present = encoding.encode(cells)
    encoded = encoded.numpy()
    assert encoded.shape == (4, 5)
    np.testing.assert_allclose(encoded[0], encoded[1], atol=1e-6)  # NaN is the mean, 3.0
    one_hot = [index for index in range(5) if set(np.unique(encoded[:, index])) <= {0.0, 1.0}]
    assert len(one_hot) == 4 and all(encoded[:, one_hot].sum(axis=1) == 1)  # "green": [UNK]
    np.testing.assert_array_equal(present.numpy(), [1.0, 1.0, 0.0, 1.0])


def test_it_saves_and_reloads_to_the_same_encoding(encoding, tmp_path):
    encoding.save(str(tmp_path))
    reloaded = TabularEncoding.load(str(tmp_path))
    cells = {name: tf.constant(values) for name, values in CELLS.items()}
    np.testing.assert_allclose(reloaded.encode(cells)[0], encoding.encode(cells)[0], atol=1e-6)
    dataset = tf.data.Dataset.from_tensor_slices(CELLS).batch(2)  # inside tf.data's graph
    widths = [batch.shape[-1] for batch, _ in dataset.map(reloaded.encode)]
    assert widths == [5, 5]


def test_missing_columns_and_no_tabular_column_are_named(encoding, tmp_path):
    with pytest.raises(ValueError, match=r"the tabular columns \['color'\] are missing"):
        encoding.encode({"weight": tf.constant([1.0])})
    with pytest.raises(ValueError, match="no numeric or categorical column"):
        TabularEncoding.adapt(Schema(roles={"text": "text", "label": "label"}), {})
    with pytest.raises(ValueError, match=r"has no tabular_feature_space\.keras"):
        TabularEncoding.load(str(tmp_path))


def test_from_dataframe_feeds_build_multimodal_model_and_train_directly():
    import pandas as pd

    from multimodal_tf import build_multimodal_model
    from multimodal_tf.data import from_dataframe
    from multimodal_tf.training import TrainingConfig, train

    rng = np.random.default_rng(0)
    size = rng.uniform(30, 150, 200).round(1)
    district = rng.choice(["north", "south", "centre"], 200)
    price = size * 3 + np.select([district == "centre", district == "north"], [120, 40], 0)
    frame = pd.DataFrame({"size": size, "district": district, "price": price})
    frame.loc[::17, "size"] = None  # empty cells: the training mean
    data = from_dataframe(frame, "price", task="regression", include_tabular=True, batch_size=16)
    assert data.schema.roles == {"size": "numeric", "district": "categorical", "price": "label"}
    statistics = data.target_statistics()

    def build():
        inputs = data.model_inputs()  # {"tabular": {"num_features": 1 + 4}}
        return build_multimodal_model(
            None, task="regression", fusion_dim=16, **inputs, **statistics
        )

    result = train(build, data.train, TrainingConfig(epochs=40, verbose=0))
    scores = result.model.evaluate(data.test, return_dict=True, verbose=0)
    assert scores["rmse"] < 0.5 * statistics["target_std"], (scores, statistics)


def test_categorical_columns_alone_and_non_finite_numbers():
    schema = Schema(roles={"color": "categorical", "label": "label"})
    encoding = TabularEncoding.adapt(schema, {"color": np.array(["red", "", "blue"], object)})
    assert encoding.columns == ["color"] and encoding.width == 4  # [UNK], red, blue, [missing]


def test_non_finite_numbers_are_bad_records_naming_row_and_column():
    import pandas as pd

    from multimodal_tf.data import from_dataframe

    frame = pd.DataFrame({"size": [1.5 * i for i in range(12)], "y": ["a", "b"] * 6})
    frame["size"] = frame["size"].astype(object)
    frame.loc[4, "size"] = "inf"
    with pytest.raises(ValueError, match=r"row 4.*'size'.*'inf' is not a finite number"):
        from_dataframe(frame, "y", include_tabular=True)
    prices = pd.DataFrame(
        {"size": [1.5 * i for i in range(12)], "price": [2.0 * i for i in range(12)]}
    )
    prices["price"] = prices["price"].astype(object)
    prices.loc[3, "price"] = "nan"
    with pytest.raises(ValueError, match=r"row 3.*'price'.*not a finite number"):
        from_dataframe(prices, "price", task="regression", include_tabular=True)


def test_crosses_add_hashed_slots_and_name_a_column_that_is_not_categorical():
    from multimodal_tf.data.user.tabular import CROSSING_DIM

    schema = Schema(
        roles={"weight": "numeric", "color": "categorical", "shape": "categorical", "y": "label"}
    )
    cells = {**CELLS, "shape": np.array(["round", "square", "round", ""], object)}
    plain = TabularEncoding.adapt(schema, cells)
    crossed = TabularEncoding.adapt(schema, cells, crosses=[("Color", "shape")])
    assert crossed.width == plain.width + CROSSING_DIM
    encoded, _ = crossed.encode({name: tf.constant(values) for name, values in cells.items()})
    assert encoded.shape == (4, crossed.width)
    with pytest.raises(ValueError, match=r"'weight' is not a categorical column"):
        TabularEncoding.adapt(schema, cells, crosses=[("color", "weight")])


def test_from_dataframe_passes_crosses_to_the_encoding():
    import pandas as pd

    from multimodal_tf.data import from_dataframe
    from multimodal_tf.data.user.tabular import CROSSING_DIM

    frame = pd.DataFrame(
        {"shape": ["round", "square"] * 10, "color": ["red", "red", "blue", "blue"] * 5}
    )
    frame["y"] = ["a", "b", "b", "a"] * 5  # the cross, not either column, gives the class
    plain = from_dataframe(frame, "y", include_tabular=True, batch_size=4)
    crossed = from_dataframe(
        frame, "y", include_tabular=True, batch_size=4, crosses=[("shape", "color")]
    )
    assert crossed.tabular_encoding.width == plain.tabular_encoding.width + CROSSING_DIM
    assert crossed.model_inputs()["tabular"]["num_features"] == crossed.tabular_encoding.width
