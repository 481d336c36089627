import os
import shutil
import sys
import tempfile
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from captures import DATA  # noqa: E402


def pytest_configure(config):
    if not DATA.is_dir():
        raise pytest.UsageError(f"the recorded exchange data is missing: expected {DATA}")
    # no test (nor the commands it starts) reads or writes the user's own config and stores: a
    # replay.sqlite left by another version made a test fail, and two runs shared one file
    home = config._orderflow_home = tempfile.mkdtemp(prefix="orderflow-tests-")
    os.environ["XDG_DATA_HOME"] = os.path.join(home, "data")
    os.environ["XDG_CONFIG_HOME"] = os.path.join(home, "config")


def pytest_unconfigure(config):
    home = getattr(config, "_orderflow_home", None)
    if home:
        shutil.rmtree(home, ignore_errors=True)
