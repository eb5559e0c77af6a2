"""Shared set-up of the reliability suite.

Hypothesis profiles, one per tests.reliability.profile profile: `reliability-bounded` (make test)
runs few examples and derandomizes them, so every run tries the same ones and a failure in CI
fails again on a laptop; `reliability-large` (make chaos) runs many from a fresh seed each time.
Neither keeps an example database (CI starts from a clean checkout); a failure prints the
falsifying example and the @reproduce_failure blob that replays it. Each test sets its own
counts with `tests.reliability.fuzzing.fuzz(bounded, large)`.
"""

from hypothesis import HealthCheck, settings

_COMMON = {
    "database": None,
    "print_blob": True,
    # Requests and sockets take what they take on a loaded 2-core machine; count examples, not time.
    "deadline": None,
    # The fuzzers share their set-up (a server, rows to aim at) across examples, on purpose.
    "suppress_health_check": [HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
}
settings.register_profile("reliability-bounded", max_examples=50, derandomize=True, **_COMMON)
settings.register_profile("reliability-large", max_examples=2000, derandomize=False, **_COMMON)
