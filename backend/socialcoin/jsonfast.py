"""JSON for the hot path of the database's JSON columns (every indexed event's arguments, and each
Transfer's companion's): orjson writes them several times faster than the standard library; what it cannot
write (integers beyond 64 bits, such as an unlimited allowance) falls back to the standard library, which
writes the same JSON value. (Parsing the node's answers with orjson was measured: no faster.)"""

from __future__ import annotations

import json
from typing import Any

import orjson

loads = orjson.loads


def dumps(value: Any) -> str:
    try:
        return orjson.dumps(value).decode()
    except TypeError:  # an integer beyond 64 bits, or a type only the standard library writes
        return json.dumps(value)
