"""A real headless Chromium (Debian's ``chromium`` + ``chromium-driver``, installed by ``make`` where apt
is usable), driven by Selenium through the distribution's chromedriver (never a downloaded one).

The flags keep Chromium off the network the test machine does not have (no QUIC, no component
updates, no sync, no background requests) and in a fresh profile; ``--no-sandbox`` because tests may
run as root in a container. Without the binaries (or Selenium) the tests are skipped with a message
naming what is missing."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
)


def _binary(*names: str) -> str | None:
    for name in names:
        found = shutil.which(name) or (f"/usr/bin/{name}" if Path(f"/usr/bin/{name}").exists() else None)
        if found:
            return found
    return None


@pytest.fixture(scope="module")
def chromium(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A Selenium WebDriver of headless Chromium, 1280x900, one per test module."""
    browser = _binary("chromium", "chromium-browser")
    driver_path = _binary("chromedriver", "chromium-driver")
    if browser is None:
        pytest.skip("no Chromium: /usr/bin/chromium is missing (apt-get install -y chromium chromium-driver)")
    if driver_path is None:
        pytest.skip("no chromedriver: /usr/bin/chromedriver is missing (apt-get install -y chromium-driver)")
    webdriver = pytest.importorskip(
        "selenium.webdriver", reason="selenium is not installed (make .venv/.installed)"
    )
    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}")
    options.add_argument("--window-size=1280,900")
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(executable_path=driver_path))
    try:
        yield driver
    finally:
        driver.quit()
