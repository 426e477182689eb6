"""One JSON decoder as strict as Go's encoding/json about numbers: NaN and Infinity are not
JSON, and a number out of a float64's range is an error (Python would make it inf). Used by
detect (stored JSON values) and pb (JSON embedded in protobuf, such as a RawExtension)."""

from __future__ import annotations

import json
from typing import Any


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON (Go's encoding/json refuses it)")


def _finite_float(text: str) -> float:
    f = float(text)
    if f in (float("inf"), float("-inf")):
        raise ValueError(f"the number {text[:30]} is out of range for a float64")
    return f


STRICT = json.JSONDecoder(parse_constant=_no_constant, parse_float=_finite_float)
