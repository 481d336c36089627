"""Settings: defaults, TOML, environment; every bad value is one line naming the key."""

import subprocess
import sys

import pytest

from orderflow_tui import config


def load(tmp_path, text, env=None):
    path = tmp_path / "c.toml"
    path.write_text(text)
    return config.load(path, env=env or {})


def test_defaults_are_the_spec():
    s = config.load(None, env={}) if not __import__("pathlib").Path("orderflow-tui.toml").exists() else None
    e = config.EngineSettings()
    assert (e.rolling_window_s, e.large_print, e.whale_print, e.mega_whale_print) == (60, 5e5, 5e6, 2e7)
    assert (e.cascade_min_count, e.cascade_min_quote, e.institutional, e.imbalance_ratio) == (5, 1e5, 1e5, 3.0)
    assert s is None or s.engine.footprint_tf == "1m"


def test_file_and_environment(tmp_path):
    s = load(tmp_path, '[engine]\nwhale_print = 6000000\nrow_size = { btc = 10 }\n[endpoints]\nbybit_ws = "ws://127.0.0.1:9"\n',
             env={"ORDERFLOW_FEEDS_VENUES": "bybit", "ORDERFLOW_UI_BELL": "true"})
    assert s.engine.whale_print == 6e6 and s.engine.row_size == {"BTC": 10.0}
    assert s.endpoints.bybit_ws == "ws://127.0.0.1:9" and s.feeds.venues == "bybit" and s.ui.bell is True


@pytest.mark.parametrize("text,key", [
    ('[engine]\nwhale_print = "lots"\n', "engine.whale_print"),
    ("[engine]\nrolling_window_s = 0\n", "engine.rolling_window_s"),
    ("[engine]\nrolling_window_s = 1.5\n", "engine.rolling_window_s"),
    ('[engine]\nsession = "weekly"\n', "engine.session"),
    ('[engine]\nfootprint_tf = "7m"\n', "engine.footprint_tf"),
    ("[engine]\nwhale_print = 100\n", "engine.whale_print"),
    ("[engine]\nrow_size = { BTC = -1 }\n", "engine.row_size.BTC"),
    ("[engine]\nbogus = 1\n", "engine.bogus"),
    ("[engine]\nrolling_window_s = inf\n", "engine.rolling_window_s"),  # issue 13: int(inf) was a traceback
    ("[engine]\nrow_size = {BTC = 1e-300}\n", "engine.row_size.BTC"),  # a row index must stay finite
    ("[engine]\nrow_size = {ETH = inf}\n", "engine.row_size.ETH"),
    ("[engine]\nrow_size = {ETH = true}\n", "engine.row_size.ETH"),
    ("[nonsense]\nx = 1\n", "nonsense"),
    ("[ui]\nbell = 3\n", "ui.bell"),
    ('[ui]\ndate_format = "dd/mm/yyyy"\n', "ui.date_format"),
    ("[engine\n", "c.toml"),
])
def test_bad_values_name_the_key(tmp_path, text, key):
    with pytest.raises(config.ConfigError) as err:
        load(tmp_path, text)
    assert key in str(err.value) and "\n" not in str(err.value)


def test_bad_environment_value(tmp_path):
    with pytest.raises(config.ConfigError, match="engine.cascade_min_count"):
        config.load(None, env={"ORDERFLOW_ENGINE_CASCADE_MIN_COUNT": "many"})


def test_cli_reports_a_bad_config_in_one_line(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text("[engine]\nimbalance_ratio = 0.5\n")
    proc = subprocess.run([sys.executable, "-m", "orderflow_tui", "stats", "--config", str(path)],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and "engine.imbalance_ratio" in proc.stderr


def test_bare_command_reaches_the_live_dashboard(tmp_path, monkeypatch):
    """`orderflow-tui` with no arguments must start the live path with every default filled in."""
    from typer.testing import CliRunner

    from orderflow_tui import cli
    from orderflow_tui.ui import launch

    called = {}
    monkeypatch.setattr(launch, "launch_live", lambda settings, db, **kw: called.update(settings=settings, db=db, **kw))
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli.app, [], env={"ORDERFLOW_FEEDS_GROUP": "BTC"})
    assert result.exit_code == 0, result.output
    assert called["settings"].feeds.venues == "binance,bybit,okx" and called["demo"] is False and called["db"] is None
