//! Keras `.h5` models.
