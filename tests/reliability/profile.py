"""How hard the reliability suite pushes.

`make test` runs the bounded profile, sized so the whole suite stays well under its time budget;
`make chaos` sets RELIABILITY_PROFILE=large and runs only the tests marked `reliability`, each with
its large count. A test asks `scale(bounded, large)` for its count instead of reading the variable
itself, so the two profiles are defined in one place.
"""

import os

PROFILES = ("bounded", "large")
PROFILE = os.environ.get("RELIABILITY_PROFILE", "bounded")
if PROFILE not in PROFILES:
    raise RuntimeError(f"RELIABILITY_PROFILE must be one of {', '.join(PROFILES)}, not {PROFILE!r}")


def scale(bounded: int, large: int) -> int:
    """The count for this run: `bounded` inside make test, `large` behind make chaos."""
    return large if PROFILE == "large" else bounded
