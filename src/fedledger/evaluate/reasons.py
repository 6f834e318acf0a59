"""Error text made fit to publish in a vote: no local paths, the part that matters first.

A reason is written to the ledger for every member to read, so it must not reveal how a
validator's machine is laid out (its temporary folders, home, run folder), and it is cut at a
length limit, so onnxruntime's source locations and C++ signatures, which come before the words
that say what went wrong, are dropped rather than left to push those words past the cut.
"""

from __future__ import annotations

import re

# An absolute POSIX path, or one from a home folder: "/tmp/x/model.onnx", "~/runs/a".
_PATH = re.compile(r"(?<![\w.~/])~?/(?:[\w.+@-]+/)*[\w.+@-]+/?")
_FILE_URI = re.compile(r"file://[^\s'\"]*")
# onnxruntime's source location: "/onnxruntime_src/onnxruntime/core/graph/model.cc:256 ".
_SOURCE_LOCATION = re.compile(r"(?:/[\w.+-]+)+\.(?:h|hpp|cc|cpp):\d+ ")
# onnxruntime's "[ONNXRuntimeError] : 1 : FAIL : " says again what the class name says.
_ORT_STATUS = re.compile(r"\[ONNXRuntimeError\] : \d+ : \w+ : ")
_NOT_PRINTABLE = re.compile(r"[^\x20-\x7e]")
_SPACES = re.compile(r" {2,}")
PATH_PLACEHOLDER = "<path>"


def _signature_end(text: str, start: int) -> int:
    """Where a C++ signature starting at `start` ends (after its closing parenthesis and any
    "const"), or `start` when there is none before the next sentence."""
    opening = text.find("(", start)
    if opening < 0 or "." in text[start:opening].replace("::", ""):
        return start
    depth = 0
    for index in range(opening, len(text)):
        depth += {"(": 1, ")": -1}.get(text[index], 0)
        if depth == 0:
            end = index + 1
            return end + len(" const") if text.startswith(" const", end) else end
    return start


def _drop_source_locations(text: str) -> str:
    while (found := _SOURCE_LOCATION.search(text)) is not None:
        end = _signature_end(text, found.end())
        text = f"{text[: found.start()]} {text[end:].lstrip()}"
    return text


def public_text(text: str) -> str:
    """`text` on one line, without onnxruntime's source locations and C++ signatures, every
    absolute or home path and file URI replaced by "<path>"."""
    text = _NOT_PRINTABLE.sub(" ", text)
    text = _ORT_STATUS.sub("", _drop_source_locations(text))
    text = _FILE_URI.sub(f"file://{PATH_PLACEHOLDER}", text)
    return _SPACES.sub(" ", _PATH.sub(PATH_PLACEHOLDER, text)).strip()


def public_reason(text: str, limit: int) -> str:
    """`public_text(text)` cut to `limit` characters (ending in "..." when cut)."""
    clean = public_text(text)
    return clean if len(clean) <= limit else clean[: limit - 3] + "..."
