"""Schemathesis over the service's own OpenAPI: no 5xx, no response that breaks the schema,
every request the document calls valid accepted and every one it calls invalid refused.

Runs against a real uvicorn server on loopback with the bundled sample. The long run, with
every check and the stateful phase, is ``benchmarks/api_schema.py``.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import (
    allow_header_conformance,
    content_type_conformance,
    missing_required_header,
    negative_data_rejection,
    not_a_server_error,
    positive_data_acceptance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
    unsupported_method,
)
from served import serving

from api.main import create_app
from geo.settings import DEFAULT_DATA_DIR, Settings


@pytest.fixture(scope="module")
def api_schema(tmp_path_factory: pytest.TempPathFactory) -> Iterator[schemathesis.BaseSchema]:
    folder = tmp_path_factory.mktemp("schema-sample")
    shutil.copytree(
        DEFAULT_DATA_DIR, folder, dirs_exist_ok=True, ignore=shutil.ignore_patterns(".*")
    )
    # writes on (with a token schemathesis does not have): a missing token must be a 401
    with serving(create_app(Settings(data=folder, api_token="schema-token", warm=False))) as url:
        yield schemathesis.openapi.from_url(f"{url}/openapi.json")


def test_no_server_errors_and_responses_match_the_schema(api_schema) -> None:
    # Every operation in turn, each with Hypothesis-generated requests. (schemathesis's
    # pytest plugin does not run under this pytest, so the loop is explicit.)
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 12
    # /reports renders a PDF per request (seconds each): tests/test_report.py covers it
    operations = [op for op in operations if op.path != "/reports"]
    checks = [not_a_server_error, response_schema_conformance, status_code_conformance,
              content_type_conformance, response_headers_conformance, allow_header_conformance,
              missing_required_header, unsupported_method]  # fmt: skip
    # valid requests (as the document says) accepted, invalid ones refused: 2xx/404/409 …
    # for the first, 4xx for the second (schemathesis's own lists of statuses)
    modes = [(GenerationMode.POSITIVE, 6, [*checks, positive_data_acceptance]),
             (GenerationMode.NEGATIVE, 3, [not_a_server_error, negative_data_rejection])]  # fmt: skip
    for operation in operations:
        for mode, examples, checked in modes:
            try:
                _check(operation.as_strategy(generation_mode=mode), examples, checked)
            except Unsatisfiable:  # nothing to make invalid: no parameters, no body
                assert mode is GenerationMode.NEGATIVE, operation.label


def _check(strategy, examples: int, checks: list) -> None:
    @given(case=strategy)
    # the same cases every run (the long run, benchmarks/api_schema.py, draws new ones)
    @settings(max_examples=examples, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))  # fmt: skip
    def check(case: schemathesis.Case) -> None:
        case.call_and_validate(checks=checks)

    check()
