"""Hypothesis strategies for hostile input, shared by the API and the socket fuzzers, and the
settings that size each fuzzer for the profile in force.

What a client can put in JSON or a form that a well-behaved client never does:
strings with NUL, lone surrogates, right-to-left marks and ten thousand
characters; numbers that are NaN, infinite, beyond 64 bits or thousands of
digits long; the wrong JSON types; and texts that are not quite JSON
(nesting thousands deep, NaN literals, invalid UTF-8).
"""

import json

import hypothesis
from hypothesis import strategies as st

from tests.reliability.profile import PROFILE, scale


def fuzz(bounded: int, large: int) -> hypothesis.settings:
    """The settings of a fuzzer: the profile's (tests/reliability/conftest.py), with its own counts."""
    return hypothesis.settings(
        hypothesis.settings.get_profile(f"reliability-{PROFILE}"), max_examples=scale(bounded, large)
    )


# Values that have broken parsers and validators somewhere before.
NASTY_STRINGS = [
    "",
    " ",
    "\x00",
    "a\x00b",
    "NaN",
    "nan",
    "sNaN",
    "Infinity",
    "-Infinity",
    "inf",
    "1e999",
    "-1e999",
    "1e-999",
    "-0",
    "0x1F",
    "+1",
    " 1",
    "1 ",
    "1_000",
    "١٢٣",
    "１２３",
    "9" * 40,
    "-" + "9" * 40,
    "9" * 5000,
    "0.0000000000000000000000000000001",
    "1,5",
    "true",
    "null",
    "[]",
    "{}",
    "\ud800",
    "\udfff",
    "a\ud83db",
    "\u202e\u0041",
    "\ufeff",
    "e\u0301",
    "\N{PILE OF POO}",
    "' OR '1'='1",
    "%00",
    "%s%s%n",
    "../../../etc/passwd",
    "<script>alert(1)</script>",
    "\r\n\r\nX-Injected: 1",
    "a" * 10_000,
    "2025-02-30T25:61:61Z",
    "9999-12-31T23:59:59-23:59",
    "0001-01-01T00:00:00+23:59",
]

# Any Unicode, lone surrogates included (st.text leaves them out unless asked).
any_text = st.text(st.characters(exclude_categories=()), max_size=40)

# A lone surrogate somewhere in ordinary text: rare in any_text, and the thing UTF-8 encoders refuse.
with_surrogate = st.tuples(st.text(max_size=6), st.characters(categories=["Cs"]), st.text(max_size=6)).map("".join)

hostile_strings = st.one_of(st.sampled_from(NASTY_STRINGS), with_surrogate, any_text)

hostile_numbers = st.one_of(
    st.integers(min_value=-(2**31), max_value=2**31),
    st.sampled_from([0, -1, 2**31, 2**53 + 1, 2**63 - 1, 2**63, 2**64, -(2**63) - 1, 10**30, -(10**30)]),
    st.integers(),
    # NaN and the infinities: json.dumps writes them as the non-JSON literals NaN and Infinity.
    st.floats(),
)

hostile_scalars = st.one_of(st.none(), st.booleans(), hostile_numbers, hostile_strings)

hostile_json = st.recursive(
    hostile_scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(hostile_strings, children, max_size=4),
    max_leaves=12,
)


def dumps(value, *, ensure_ascii: bool = True) -> str:
    """JSON as a sloppy client writes it: NaN and Infinity as literals, lone surrogates as escapes."""
    return json.dumps(value, allow_nan=True, ensure_ascii=ensure_ascii)


def nested(depth: int, *, kind: str = "[") -> str:
    if kind == "[":
        return "[" * depth + "]" * depth
    return '{"a":' * depth + "1" + "}" * depth


# Texts that Python's json module reads (or chokes on) but that are not JSON any client should send.
not_quite_json = st.one_of(
    st.builds(nested, st.sampled_from([33, 200, 999, 1000, 1001, 3000, 20_000]), kind=st.sampled_from(["[", "{"])),
    st.builds(lambda digits: '{"n":' + "9" * digits + "}", st.integers(min_value=4200, max_value=20_000)),
    st.sampled_from(
        [
            '{"n":NaN}',
            '{"n":-Infinity}',
            '{"n":1e400}',
            '{"s":"\\ud800"}',
            '{"\\udfff":1}',
            '{"s":"\\u0000"}',
            '{"a":1,"a":2}',
            "\ufeff{}",
            "{",
            "}",
            "",
            "null",
            "[]",
            '"text"',
            "1",
            '{"a":1}trailing',
        ]
    ),
)
