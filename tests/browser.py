"""What the browser tests need: Debian's chromium and Playwright, or a clear reason.

Importing this module skips the importing test module when either is missing, except in CI
(``CI`` set), where a missing part is an error: the page tests must run there.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
#: Screenshots of the page tests, for a person to look at.
OUTPUT = Path(__file__).resolve().parent.parent / "test-output"

if not Path(CHROMIUM).exists():
    if os.environ.get("CI"):
        raise RuntimeError("Debian chromium is required in CI: apt-get install chromium")
    pytest.skip("chromium not installed (apt-get install chromium)", allow_module_level=True)

try:
    from playwright import sync_api
except ImportError:
    if os.environ.get("CI"):
        raise RuntimeError("playwright is required in CI: pip install -e '.[dev]'") from None
    pytest.skip("playwright not installed (pip install -e '.[dev]')", allow_module_level=True)

__all__ = ["CHROMIUM", "OUTPUT", "launched", "sync_api"]

#: Quiet, offline-friendly headless Chromium: no background requests of its own.
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]  # fmt: skip


@contextlib.contextmanager
def launched() -> Iterator[Any]:
    """Debian's Chromium through Playwright, closed afterwards (for a module's fixture)."""
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield browser
        finally:
            browser.close()
