"""A practitioner's own files as streamed, checked train / validation / test pipelines.

| concern | module |
|---|---|
| reading CSV (BOM, `;`, tab), TSV, Parquet, JSON Lines, DataFrames | `tables.py` |
| column roles, task, class vocabulary: `Schema` | `schema.py` |
| per-row checks before streaming, label encoding | `checks.py` |
| stratified, seeded validation and test splits | `splits.py` |
| the streamed `tf.data` pipeline | `streaming.py` |
| `from_csv`, `from_dataframe`, `from_directory` | `loaders.py` |
| `UserData`: the splits, schema, row ids and tabular encoding | `prepared.py` |
| numeric and categorical columns as one vector (`keras.utils.FeatureSpace`) | `tabular.py` |
"""

from multimodal_tf.data.user.loaders import from_csv, from_dataframe, from_directory
from multimodal_tf.data.user.prepared import UserData
from multimodal_tf.data.user.schema import Schema
from multimodal_tf.data.user.tables import read_table
from multimodal_tf.data.user.tabular import TabularEncoding

__all__ = [
    "Schema",
    "TabularEncoding",
    "UserData",
    "from_csv",
    "from_dataframe",
    "from_directory",
    "read_table",
]
