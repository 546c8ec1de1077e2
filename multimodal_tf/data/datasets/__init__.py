"""One TFDS builder per real source; importing this package registers them."""
