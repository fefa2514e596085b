"""The network: its config (`config`), vocabulary (`vocab`), batches and tf.data (`data`), the Keras
model and its bits-per-character metric (`model`), the fast CPU LSTM (`lstm`), training callbacks
(`callbacks`) and the NumPy sampler (`sampling`). Imports only the base modules (errors, files);
TensorFlow and Keras load in model, lstm and callbacks, not here."""
