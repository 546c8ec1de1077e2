"""Why did the model predict that? Attributions per modality (the document's §5.1.3).

Three tools, for any classifier this library builds (the CNN, the stacked
LSTM, the BERT classifier and the multimodal model):

- :func:`integrated_gradients` (Sundararajan et al., 2017): attributions
  aligned with the inputs, for image pixels, sequence time steps × features
  and text tokens (through the token embeddings, since token ids have no
  gradient). All modalities move from their baseline to the input together,
  so the attributions of all modalities add up to the target logit's change,
  `output(x) - output(baseline)` (*completeness*; the gap is returned as
  `convergence_delta`), and each modality's share is its sum.
- :func:`modality_contributions`: for the multimodal model, how much of the
  target logit each modality carries, from its presence flag: the exact
  Shapley value of switching modalities on, over all subsets (2 or 3
  modalities: 4 or 8 forward passes).
- :func:`grad_cam` (Selvaraju et al., 2017): a heat map over the image from
  the last convolution's activations, for the CNN and the multimodal model.

Plots (matplotlib, imported when called): :func:`plot_image_attribution`,
:func:`plot_token_attribution`, :func:`plot_sequence_attribution` and
:func:`plot_modality_contributions`.

The target is the class's *logit* (the input of the final softmax) by
default, since logits add up the way attributions do; pass
`output="probability"` for the softmax output instead. Gradients use
TensorFlow's `GradientTape`: these functions need the TensorFlow backend.

| concern | module |
|---|---|
| checked examples, logits, patched layers | `model_access.py` |
| `integrated_gradients`, `default_baseline`, `Attributions` | `integrated_gradients.py` |
| `modality_contributions` | `shapley.py` |
| `grad_cam` | `grad_cam.py` |
| `plot_*`, `token_strings` | `plots.py` |

Example (a trained model and one example's features assumed; notebook 04 runs it)::

    result = integrated_gradients(model, features)   # one example, no batch axis
    result.totals                                     # {"image": 1.7, "text": 4.2}
    plot_image_attribution(features["image"], result.attributions["image"])
"""

from multimodal_tf.explain.grad_cam import grad_cam
from multimodal_tf.explain.integrated_gradients import (
    Attributions,
    default_baseline,
    integrated_gradients,
)
from multimodal_tf.explain.model_access import MODALITY_INPUTS
from multimodal_tf.explain.plots import (
    plot_image_attribution,
    plot_modality_contributions,
    plot_sequence_attribution,
    plot_token_attribution,
    token_strings,
)
from multimodal_tf.explain.shapley import modality_contributions

__all__ = [
    "MODALITY_INPUTS",
    "Attributions",
    "default_baseline",
    "grad_cam",
    "integrated_gradients",
    "modality_contributions",
    "plot_image_attribution",
    "plot_modality_contributions",
    "plot_sequence_attribution",
    "plot_token_attribution",
    "token_strings",
]
