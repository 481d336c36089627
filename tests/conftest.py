import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from captures import DATA  # noqa: E402


def pytest_configure(config):
    if not DATA.is_dir():
        raise pytest.UsageError(f"the recorded exchange data is missing: expected {DATA}")
