"""More schemathesis examples than `make test` runs: 300 per operation (SCHEMATHESIS_EXAMPLES overrides)."""

from __future__ import annotations

import os

os.environ.setdefault("SCHEMATHESIS_EXAMPLES", "300")

from tests.api.test_schema import (
    settings_override,
)
from tests.api.test_schema import (
    test_generated_calls_never_fail_on_the_server_and_match_the_schema as test_bench_schema_many_calls,
)

__all__ = ["settings_override", "test_bench_schema_many_calls"]
