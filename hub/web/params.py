"""Query-string parameters checked the same way on every page and API call."""

from flask import abort, request

PAGE_SIZE = 50


def int_arg(name: str, default: int, low: int, high: int) -> int:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        abort(400, f"`{name}` must be a whole number")
    if not low <= value <= high:
        abort(400, f"`{name}` must be between {low} and {high}")
    return value


def page() -> tuple[int, int]:
    """(limit, offset) from `limit` and `offset`."""
    return int_arg("limit", PAGE_SIZE, 1, 500), int_arg("offset", 0, 0, 10**9)


def text_arg(name: str, max_len: int = 200) -> str:
    value = request.args.get(name, "").strip()
    if len(value) > max_len:
        abort(400, f"`{name}` is longer than {max_len} characters")
    return value
