"""The evaluation engine: static checks, sandboxed onnxruntime inference, metrics, decision."""
