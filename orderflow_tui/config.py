"""Settings: defaults from analytics.md, overridden by a TOML file and environment variables.

Lookup: ``--config PATH``, else ``./orderflow-tui.toml``, else the user config directory.
Every key is validated on load; a bad value is a one-line ``ConfigError`` naming the key.
Environment overrides: ``ORDERFLOW_<SECTION>_<KEY>`` (e.g. ``ORDERFLOW_ENDPOINTS_BINANCE_MARKET_WS``).
"""

from __future__ import annotations

import dataclasses
import math
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path


class ConfigError(ValueError):
    """A bad setting: the message is one line and names the key."""


def _f(default, *, lo=None, hi=None, choices=None, doc=""):
    return field(default=default, metadata={"lo": lo, "hi": hi, "choices": choices, "doc": doc})


def _d(factory):
    return field(default_factory=factory)


@dataclass
class EngineSettings:
    session: str = _f("start", choices=("start", "utc-day"))
    rolling_window_s: int = _f(60, lo=1, hi=3600, doc="CVD net % and pressure window")
    cvd_strong: float = _f(20.0, lo=0)
    cvd_moderate: float = _f(10.0, lo=0)
    cvd_weak: float = _f(5.0, lo=0)
    divergence_bars: int = _f(10, lo=3, hi=500)
    pressure_neutral: float = _f(10.0, lo=0, hi=100)
    pressure_extreme: float = _f(40.0, lo=0, hi=100)
    pressure_strong: float = _f(25.0, lo=0, hi=100)
    pressure_moderate: float = _f(10.0, lo=0, hi=100)
    merge_prints: bool = _f(True)
    large_print: float = _f(500_000.0, lo=0)
    whale_print: float = _f(5_000_000.0, lo=0)
    mega_whale_print: float = _f(20_000_000.0, lo=0)
    whale_list_size: int = _f(50, lo=1, hi=10_000)
    flow_dominance_alert: float = _f(40.0, lo=0, hi=100)
    flow_net_alert: float = _f(20.0, lo=0, hi=100)
    liquidation_window_min: int = _f(60, lo=1, hi=7 * 24 * 60)
    liquidation_tape_size: int = _f(200, lo=1, hi=100_000)
    institutional: float = _f(100_000.0, lo=0)
    cascade_window_s: int = _f(60, lo=1, hi=3600)
    cascade_min_count: int = _f(5, lo=1)
    cascade_min_quote: float = _f(100_000.0, lo=0)
    tier_window_min: int = _f(5, lo=1, hi=1440)
    tier_minor: float = _f(10_000_000.0, lo=0)
    tier_moderate: float = _f(25_000_000.0, lo=0)
    tier_major: float = _f(50_000_000.0, lo=0)
    tier_extreme: float = _f(100_000_000.0, lo=0)
    footprint_tf: str = _f("1m", doc="1m 5m 15m 1h 4h 1d, or vol:N (base), or ticks:N (trades)")
    footprint_bars: int = _f(500, lo=10, hi=100_000)
    imbalance_ratio: float = _f(3.0, lo=1.0)
    imbalance_min_volume: float = _f(0.0, lo=0)
    stacked_rows: int = _f(3, lo=2, hi=100)
    bar_imbalance_ratio: float = _f(3.0, lo=1.0)
    absorption_volume_ratio: float = _f(2.0, lo=0)
    absorption_lookback: int = _f(20, lo=1, hi=500)
    absorption_body_pct: float = _f(25.0, lo=0, hi=100)
    value_area_pct: float = _f(70.0, lo=1, hi=100)
    hvn_ratio: float = _f(1.5, lo=0)
    lvn_ratio: float = _f(0.5, lo=0)
    signal_threshold: float = _f(30.0, lo=0, hi=100)
    flow_signal_net: float = _f(15.0, lo=0, hi=100)
    # the signal's open-interest reasoning line (docs/decisions.md, "Market context"): no points
    oi_move_pct: float = _f(1.0, lo=0, hi=100, doc="5 min open-interest change the reasoning calls a move")
    crowded_funding_apr: float = _f(30.0, lo=0, hi=10_000, doc="annualized funding % above which rising open "
                                    "interest is called crowded")
    alert_log_size: int = _f(500, lo=10, hi=100_000)
    # book readings (docs/decisions.md, "Order books: ladder, heatmap and readings"): reasoning lines
    # and alerts only, no points in the score
    book_imbalance_bps: float = _f(10.0, lo=0.1, hi=1000, doc="resting size within this distance of the mid "
                                   "counts as near the touch")
    book_imbalance_pct: float = _f(30.0, lo=0, hi=100, doc="net bid-ask share of that size called bid- or ask-heavy")
    book_wall_ratio: float = _f(5.0, lo=1.5, doc="a wall: a level this many times the median of its neighbours")
    book_wall_neighbours: int = _f(5, lo=1, hi=100, doc="levels either side a wall is compared with")
    book_wall_depth: int = _f(100, lo=5, hi=1000, doc="levels a side searched for walls, per book")
    book_wall_min_quote: float = _f(250_000.0, lo=0, doc="a wall is worth at least this much ($)")
    book_wall_min_s: float = _f(3.0, lo=0, hi=3600, doc="a wall must have stood this long to be called pulled")
    book_wall_pulled_pct: float = _f(75.0, lo=1, hi=100, doc="share of a wall's size that must vanish, with "
                                     "the touch never at its price and little traded there, to call it pulled")
    book_absorb_window_s: int = _f(10, lo=1, hi=600, doc="seconds of samples an absorption is read over")
    book_absorb_ratio: float = _f(1.0, lo=0, doc="taker volume into a row at least this × its resting size at "
                                  "the window's start")
    book_absorb_hold_pct: float = _f(70.0, lo=0, hi=1000, doc="resting size at the end at least this % of the "
                                     "start: the level held or refilled")
    book_absorb_min_quote: float = _f(250_000.0, lo=0, doc="taker volume ($) an absorption needs at least")
    book_alert_interval_s: float = _f(30.0, lo=0, hi=3600, doc="at most one wall-pulled / absorption alert per "
                                      "group, kind and side per this many seconds")
    row_size: dict = _d(dict)  # group -> price row size, e.g. {"BTC": 10}
    liquidation_bucket: dict = _d(dict)  # group -> liquidation cluster bucket, e.g. {"BTC": 100} (§5)


@dataclass
class FeedSettings:
    group: str = _f("BTC")
    venues: str = _f("binance,bybit,okx")
    reconnect_min_s: float = _f(0.25, lo=0.01, doc="first retry; doubles per failure up to reconnect_max_s")
    reconnect_max_s: float = _f(60.0, lo=0.1)
    stable_after_s: float = _f(10.0, lo=0, doc="a connection up this long resets the backoff")
    rotate_after_s: float = _f(23.5 * 3600, lo=1, doc="planned reconnect before Binance's 24 h cut")
    stale_after_s: float = _f(30.0, lo=1, doc="no frame nor keep-alive answer for this long: stale")
    ping_interval_s: float = _f(20.0, lo=0.5)
    max_frame_bytes: int = _f(4 * 1024 * 1024, lo=1024)
    backfill: bool = _f(True)
    okx_gap_check: bool = _f(False, doc="OKX tradeId - count continuity (UNCONFIRMED)")
    rest_timeout_s: float = _f(10.0, lo=0.1, doc="one REST call at most this long (then it backs off)")
    rest_backoff_min_s: float = _f(1.0, lo=0.01, doc="first REST wait after a 5xx, a timeout or a 429 "
                                   "without Retry-After; doubles per failure up to rest_backoff_max_s")
    rest_backoff_max_s: float = _f(300.0, lo=0.01, doc="longest such wait; a 418 ban without Retry-After")
    open_interest_poll_s: float = _f(10.0, lo=1, hi=3600, doc="Binance open interest over REST: seconds "
                                     "between polls (weight 1 per symbol)")
    rest_budget_share: float = _f(0.5, lo=0.001, hi=1.0, doc="share of each venue's published REST weight "
                                  "limit this client may use")
    books: bool = _f(True, doc="L2 order books: a depth connection per venue beside the trade one")
    book_resync_s: float = _f(5.0, lo=0.1, doc="at most one resync (REST snapshot or resubscribe) per book "
                              "in this many seconds")


@dataclass
class EndpointSettings:
    binance_market_ws: str = _f("wss://fstream.binance.com/market/stream")
    binance_public_ws: str = _f("wss://fstream.binance.com/public/stream")
    binance_trades_route: str = _f("market", choices=("market", "public"))
    binance_rest: str = _f("https://fapi.binance.com")
    bybit_ws: str = _f("wss://stream.bybit.com/v5/public/linear")
    bybit_rest: str = _f("https://api.bybit.com")
    okx_ws: str = _f("wss://ws.okx.com:8443/ws/v5/public")
    okx_rest: str = _f("https://www.okx.com")
    coinbase_ws: str = _f("wss://advanced-trade-ws.coinbase.com")
    hyperliquid_ws: str = _f("wss://api.hyperliquid.xyz/ws")
    bitget_ws: str = _f("wss://ws.bitget.com/v2/ws/public")
    bitget_liquidation_ws: str = _f("wss://ws.bitget.com/v3/ws/public")
    # the live Coinbase feed is the Exchange one (matches + heartbeat: trade ids and sequences);
    # coinbase_ws (Advanced Trade market_trades) stays for captures and a fallback
    coinbase_exchange_ws: str = _f("wss://ws-feed.exchange.coinbase.com")
    coinbase_rest: str = _f("https://api.exchange.coinbase.com")
    hyperliquid_rest: str = _f("https://api.hyperliquid.xyz")
    bitget_rest: str = _f("https://api.bitget.com")


@dataclass
class VenueOptions:
    coinbase_side_is_maker: bool = _f(True)
    coinbase_include_history: bool = _f(False)
    hyperliquid_side_b_is_buy: bool = _f(True)
    # HLP (documented as the vault that "performs liquidations"); its liquidator children are read
    # from its vaultDetails at start, never hard-coded (they rotate)
    hyperliquid_hlp_vault: str = _f("0xdfc24b077bc1425ad1dea75bcb6f8158e10df303")
    bitget_trade_side_is_taker: bool = _f(True)
    bitget_include_history: bool = _f(False)
    bitget_liquidation_buy_is_long: bool = _f(True)
    bitget_liquidation_amount_in_quote: bool = _f(True)

    def per_venue(self) -> dict[str, dict]:
        out: dict[str, dict] = {}
        for f in dataclasses.fields(self):
            venue, _, key = f.name.partition("_")
            out.setdefault(venue, {})[key] = getattr(self, f.name)
        return out


@dataclass
class UISettings:
    theme: str = _f("dark")
    refresh_hz: float = _f(5.0, lo=1, hi=30)
    bell: bool = _f(False)
    bell_severity: str = _f("high", choices=("info", "warning", "high"), doc="lowest alert severity that rings")
    bell_interval_s: float = _f(30.0, lo=0, hi=3600, doc="at most one bell per this many seconds")
    warmup_s: int = _f(60, lo=0, hi=3600, doc="seconds of data before the signal shows a confidence")
    mouse: bool = _f(True)
    date_format: str = _f("yyyymmdd", choices=("yyyymmdd", "iso"), doc="dates as 20261207 (analytics.md §10) "
                          "or 2026-12-07; times are HH:MM:SS UTC either way")
    heatmap_minutes: int = _f(60, lo=1, hi=360, doc="history the heatmap keeps, one column a second")
    heatmap_rows: int = _f(400, lo=50, hi=2000, doc="price rows of the group's base step kept per column, "
                           "around the mid")
    book_stale_s: float = _f(15.0, lo=1, hi=3600, doc="a book with no update for this long is shown stale "
                             "(Hyperliquid pushes about every 5 s)")


@dataclass
class AlertSettings:
    """Alerts at price levels (docs/decisions.md, "Alerts at levels")."""

    levels: dict = _d(dict)  # group -> prices a trader marks, e.g. {"BTC": [100000.0, 95000.0]}
    engine_levels: bool = _f(True, doc="also the session POC, value-area edges, HVN/LVN, liquidation clusters")
    level_rows: int = _f(1, lo=0, hi=100, doc="price within this many footprint rows of a level is at it")
    level_norm_s: int = _f(600, lo=30, hi=86_400, doc="seconds of history behind a level's 'recent norm'")
    level_volume_ratio: float = _f(3.0, lo=1, doc="a second's taker volume this many times the norm is aggressive")
    level_min_quote: float = _f(50_000.0, lo=0, doc="and at least this much quote in the second")
    level_absorb_s: int = _f(10, lo=2, hi=3600, doc="seconds price must stay at a level to call absorption")
    level_absorb_ratio: float = _f(2.0, lo=0, doc="taker volume over the stay, times the norm for as long")
    level_absorb_net: float = _f(30.0, lo=0, hi=100, doc="net % of that volume one side must press with")
    level_spike_ratio: float = _f(2.5, lo=1, doc="60 s flow net % this many times its recent mean is a spike")
    level_spike_net: float = _f(25.0, lo=0, hi=100, doc="and at least this net %")
    level_interval_s: int = _f(300, lo=0, hi=86_400, doc="one alert per level and rule at most this often")
    cluster_levels: int = _f(3, lo=0, hi=10, doc="the largest liquidation clusters that count as levels")


@dataclass
class StoreSettings:
    db: str = _f("", doc="empty: the user data directory")
    commit_interval_s: float = _f(1.0, lo=0.05, hi=60)
    keep_liquidations_days: int = _f(90, lo=0, doc="raw liquidations below the institutional size; 0 keeps "
                                     "them forever")
    keep_buckets_days: int = _f(730, lo=0, doc="minute and hour rollups, cascades, institutional liquidations; "
                                "0 keeps them forever")


@dataclass
class Settings:
    engine: EngineSettings = _d(EngineSettings)
    feeds: FeedSettings = _d(FeedSettings)
    endpoints: EndpointSettings = _d(EndpointSettings)
    venues: VenueOptions = _d(VenueOptions)
    ui: UISettings = _d(UISettings)
    store: StoreSettings = _d(StoreSettings)
    alerts: AlertSettings = _d(AlertSettings)


def _coerce(key: str, f: dataclasses.Field, value):
    want = type(f.default) if f.default is not dataclasses.MISSING else dict
    if want is bool:
        if isinstance(value, str) and value.lower() in ("1", "true", "yes", "on", "0", "false", "no", "off"):
            value = value.lower() in ("1", "true", "yes", "on")
        if not isinstance(value, bool):
            raise ConfigError(f"config key {key}: expected true or false, got {value!r}")
    elif want in (int, float):
        if isinstance(value, str):
            try:
                value = want(value)
            except ValueError:
                raise ConfigError(f"config key {key}: expected a number, got {value!r}") from None
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise ConfigError(f"config key {key}: expected a finite number, got {value!r}")
        if want is int and value != int(value):
            raise ConfigError(f"config key {key}: expected a whole number, got {value!r}")
        value = want(value)
        lo, hi = f.metadata.get("lo"), f.metadata.get("hi")
        if lo is not None and value < lo or hi is not None and value > hi:
            raise ConfigError(f"config key {key}: {value!r} is outside {lo}..{hi if hi is not None else '∞'}")
    elif want is str:
        if not isinstance(value, str):
            raise ConfigError(f"config key {key}: expected a string, got {value!r}")
        choices = f.metadata.get("choices")
        if choices and value not in choices:
            raise ConfigError(f"config key {key}: {value!r} is not one of {', '.join(choices)}")
    elif want is dict and key == "alerts.levels":  # group -> a list of prices
        if not isinstance(value, dict):
            raise ConfigError(f"config key {key}: expected a table like {{ BTC = [100000, 95000] }}, got {value!r}")
        for k, v in value.items():
            if not isinstance(v, list) or not all(not isinstance(p, bool) and isinstance(p, (int, float))
                                                  and 0 < p < 1e12 and math.isfinite(p) for p in v):
                raise ConfigError(f"config key {key}.{k}: expected a list of positive prices, got {v!r}")
        value = {str(k).upper(): sorted({float(p) for p in v}) for k, v in value.items()}
    elif want is dict:
        if not isinstance(value, dict):
            raise ConfigError(f"config key {key}: expected a table, got {value!r}")
        for k, v in value.items():  # price steps: the range keeps price / step a finite integer (decisions.md)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not 1e-12 <= v <= 1e9:
                raise ConfigError(f"config key {key}.{k}: expected a number from 1e-12 to 1e9, got {v!r}")
        value = {str(k).upper(): float(v) for k, v in value.items()}
    return value


def apply(settings: Settings, data: dict, source: str = "config") -> Settings:
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: expected a table of sections")
    for section, values in data.items():
        sub = getattr(settings, section, None) if section in _sections() else None
        if sub is None:
            raise ConfigError(f"config key {section}: unknown section (known: {', '.join(_sections())})")
        if not isinstance(values, dict):
            raise ConfigError(f"config key {section}: expected a table")
        fields = {f.name: f for f in dataclasses.fields(sub)}
        for key, value in values.items():
            if key not in fields:
                raise ConfigError(f"config key {section}.{key}: unknown key")
            setattr(sub, key, _coerce(f"{section}.{key}", fields[key], value))
    _check_relations(settings)
    return settings


def _check_relations(s: Settings) -> None:
    e = s.engine
    from orderflow_tui.engine.footprint import parse_bar_setting

    try:
        parse_bar_setting(e.footprint_tf)
    except ValueError as exc:
        raise ConfigError(f"config key engine.footprint_tf: {exc}") from None
    if not e.large_print <= e.whale_print <= e.mega_whale_print:
        raise ConfigError("config key engine.whale_print: tiers must grow: large_print <= whale_print <= mega_whale_print")
    if not e.tier_minor <= e.tier_moderate <= e.tier_major <= e.tier_extreme:
        raise ConfigError("config key engine.tier_moderate: tiers must grow: minor <= moderate <= major <= extreme")
    if s.feeds.reconnect_min_s > s.feeds.reconnect_max_s:
        raise ConfigError("config key feeds.reconnect_min_s: larger than feeds.reconnect_max_s")


def _sections() -> tuple[str, ...]:
    return tuple(f.name for f in dataclasses.fields(Settings))


def default_config_path() -> Path:
    from platformdirs import user_config_path

    return user_config_path("orderflow-tui") / "config.toml"


def load(path: str | Path | None = None, env: dict | None = None) -> Settings:
    """Defaults, then the TOML file, then ORDERFLOW_* environment variables."""
    settings = Settings()
    env = os.environ if env is None else env
    candidates = [Path(path)] if path else [Path("orderflow-tui.toml"), default_config_path()]
    for p in candidates:
        if p.is_file():
            try:
                data = tomllib.loads(p.read_text(encoding="utf-8"))
            except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
                raise ConfigError(f"config file {p}: {str(exc).splitlines()[0]}") from None
            apply(settings, data, str(p))
            break
        if path:
            raise ConfigError(f"config file {p}: not found")
    overrides: dict[str, dict] = {}
    for name, value in env.items():
        if not name.startswith("ORDERFLOW_"):
            continue
        rest = name[len("ORDERFLOW_"):].lower()
        for section in _sections():
            if rest.startswith(section + "_"):
                overrides.setdefault(section, {})[rest[len(section) + 1:]] = value
                break
    if overrides:
        apply(settings, overrides, "environment")
    return settings
