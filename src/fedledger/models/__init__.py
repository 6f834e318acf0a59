"""Train scikit-learn pipelines on schema data, convert them to ONNX, read their metadata."""
