"""`python -m multimodal_tf.cli`: the `multimodal-tf` command."""

import sys

from multimodal_tf.cli.parser import main

sys.exit(main())
