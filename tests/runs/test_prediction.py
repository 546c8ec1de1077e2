"""`predict_batch`: rows predicted together give what one row at a time gives."""

import numpy as np

from multimodal_tf.runs import predict_batch, predict_example
from multimodal_tf.runs.prediction import BATCH_ROWS


def test_a_batch_of_sequences_of_any_length_predicts_as_rows_one_by_one(vowels_runs, tmp_path):
    rng = np.random.default_rng(0)
    rows = ["sequence"]
    for index in range(BATCH_ROWS + 5):  # two batches, the second short
        if index == BATCH_ROWS + 1:
            rows.append("missing.npy")  # a bad row inside a batch: its own line, in its place
            continue
        np.save(tmp_path / f"{index}.npy", rng.normal(size=(7 + index % 13, 12)).astype("f4"))
        rows.append(f"{index}.npy")
    (tmp_path / "rows.csv").write_text("\n".join(rows) + "\n")
    run = str(vowels_runs / "float")
    results = list(predict_batch(run, str(tmp_path / "rows.csv")))
    assert [result["row"] for result in results] == list(range(BATCH_ROWS + 5))
    bad = results[BATCH_ROWS + 1]
    assert sorted(bad) == ["error", "row"] and "missing.npy" in bad["error"]
    for result, name in zip(results[:3] + results[-3:], rows[1:4] + rows[-3:]):
        alone = predict_example(run, sequence=str(tmp_path / name))
        assert result["class"] == alone["class"] and result["present"] == ["sequence"]
        np.testing.assert_allclose(result["probability"], alone["probability"], atol=1e-5)
