from __future__ import annotations

import os

# Keras 3 on the torch backend (the `keras` extra installs no TensorFlow); must be set
# before keras is first imported.
os.environ.setdefault("KERAS_BACKEND", "torch")
