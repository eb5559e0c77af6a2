"""Decoded JSON from a client that cannot go on: lone UTF-16 surrogates, and nesting beyond a bound.

Python's json module turns a `"\\ud800"` escape into a str that no UTF-8 encoder accepts: not
PostgreSQL, not Redis, not the renderer that echoes a bad value back in an error reply, not
another client. Both doors that read JSON from clients, the API's parser (zora/api.py) and the
socket's frames (realtime/protocol/framing.py), refuse it on arrival, naming where it was.
"""


def _printable(key: str) -> str:
    return key.encode("utf-8", "backslashreplace").decode()


def _surrogate_in(text: str) -> str | None:
    if text.isascii():
        return None
    try:
        text.encode()
    except UnicodeEncodeError as error:
        return f"holds a lone UTF-16 surrogate (U+{ord(text[error.start]):04X}), which is not text"
    return None


def unportable_part(value, *, max_depth: int | None = None) -> tuple[str, str] | None:
    """Where and why `value` cannot be passed on, or None: `(path, why)` with a dotted path
    (`documents.0.url`, "" for `value` itself) and a predicate (`holds a lone UTF-16 surrogate
    (U+D800), which is not text`, `nests deeper than 32 levels`)."""
    pending = [(value, (), 1)]
    while pending:
        node, path, depth = pending.pop()
        if isinstance(node, str):
            why = _surrogate_in(node)
            if why:
                return ".".join(path), why
        elif isinstance(node, (dict, list)):
            if max_depth is not None and depth > max_depth:
                return ".".join(path), f"nests deeper than {max_depth} levels"
            for key, child in node.items() if isinstance(node, dict) else enumerate(node):
                where = (*path, _printable(str(key)))
                why = _surrogate_in(key) if isinstance(key, str) else None
                if why:
                    return ".".join(where), f"has a key that {why}"
                pending.append((child, where, depth + 1))
    return None
