"""Where a value holds a NUL character (U+0000), which the hub stores on neither backend.

PostgreSQL's text cannot hold one and SQLite's can, so the hub refuses it everywhere it
enters (an API request, a CSV row, a station's event): the same input gets the same
answer on both, naming where the character was.
"""

import msgspec

# The JSON Schema of a text without NUL (ECMA-262 and Python's `re` read it alike): what the
# API's document says of every free text it takes.
NUL_FREE = "^[^\\u0000]*$"


def nul_path(value: object, path: str = "$") -> str | None:
    """The path of the first string (or key) in `value` that holds a NUL character."""
    if isinstance(value, str):
        return path if "\x00" in value else None
    if isinstance(value, dict):
        for key, item in value.items():
            found = nul_path(key, path) or nul_path(item, f"{path}.{key}")
            if found is not None:
                return found
    if isinstance(value, list | tuple):
        for index, item in enumerate(value):
            found = nul_path(item, f"{path}[{index}]")
            if found is not None:
                return found
    return None


def nul_path_in_json(raw: bytes) -> str | None:
    """The same for a JSON document (whose only spelling of NUL is \\u0000: most documents
    are passed over by that test alone)."""
    return nul_path(msgspec.json.decode(raw)) if b"\\u0000" in raw else None
