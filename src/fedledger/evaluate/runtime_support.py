"""What the installed onnxruntime can load: the highest opset per operator domain and the
highest IR version.

onnx.checker knows nothing of the runtime (it accepts opset 999), so a model for a future opset
passed every propose-time check and failed in every validator's sandbox. These limits are found
by loading tiny one-node models of our own (never the proposer's), the only answer onnxruntime
gives that is exactly what a validator's sandbox accepts; about thirty loads, a few
milliseconds each, once per process.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from onnx import TensorProto, helper

from fedledger.evaluate.errors import EvaluatorError

# The lowest versions onnxruntime has loaded since its first releases: the probes' start.
_KNOWN_GOOD_OPSET = {"": 7, "ai.onnx.ml": 1}
_KNOWN_GOOD_IR = 3
# Far beyond any real version: the probes search below it.
_CEILING = 1024


@dataclass(frozen=True)
class RuntimeSupport:
    """The versions one onnxruntime loads: `opsets` maps a domain ("" is ai.onnx) to the
    highest opset it accepts."""

    onnxruntime: str
    ir_version: int
    opsets: Mapping[str, int]


def _probe_model(opsets: Mapping[str, int], ir_version: int) -> bytes:
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])
    graph = helper.make_graph([helper.make_node("Identity", ["x"], ["y"])], "probe", [x], [y])
    imports = [helper.make_opsetid(domain, version) for domain, version in opsets.items()]
    model = helper.make_model(graph, opset_imports=imports)
    model.ir_version = ir_version
    return bytes(model.SerializeToString())


def _ort_loads() -> Callable[[bytes], bool]:
    import onnxruntime as ort  # heavy: only when a model is checked

    options = ort.SessionOptions()
    options.log_severity_level = 4
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1

    def loads(model: bytes) -> bool:
        try:
            ort.InferenceSession(model, sess_options=options, providers=["CPUExecutionProvider"])
        except Exception:  # onnxruntime raises its own classes (Fail, InvalidGraph, ...)
            return False
        return True

    return loads


def highest_accepted(accepts: Callable[[int], bool], low: int, high: int = _CEILING) -> int:
    """The highest version in [low, high) `accepts`, given that it accepts `low` and every
    version from `low` up to some highest one.

    Raises EvaluatorError when it does not accept `low` (the runtime cannot load anything)."""
    if not accepts(low):
        raise EvaluatorError(f"onnxruntime refuses a one-node model at version {low}")
    while high - low > 1:
        middle = (low + high) // 2
        if accepts(middle):
            low = middle
        else:
            high = middle
    return low


def probe_support(loads: Callable[[bytes], bool], version: str) -> RuntimeSupport:
    """The versions a runtime whose loading of a model is `loads` accepts.

    Raises EvaluatorError when it loads not even the oldest probe model."""

    def opset_of(domain: str) -> Callable[[int], bool]:
        return lambda version: loads(_probe_model({"": 7, domain: version}, 8))

    opsets = {
        domain: highest_accepted(opset_of(domain), low) for domain, low in _KNOWN_GOOD_OPSET.items()
    }
    ir_version = highest_accepted(lambda v: loads(_probe_model({"": 7}, v)), _KNOWN_GOOD_IR)
    return RuntimeSupport(version, ir_version, opsets)


@functools.cache
def installed_support() -> RuntimeSupport:
    """The versions the installed onnxruntime accepts (probed once per process).

    Raises EvaluatorError when onnxruntime loads not even the oldest probe model."""
    import onnxruntime as ort

    return probe_support(_ort_loads(), ort.__version__)


def domain_name(domain: str) -> str:
    """The domain as people write it ("" is ai.onnx)."""
    return domain or "ai.onnx"
