"""Themes from TOML files: the project's themes/ folder, the installed copy, the user's own."""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path

from textual.theme import Theme

BUILTIN_NAMES = {"dark": "orderflow-dark", "light": "orderflow-light", "colorblind": "orderflow-colorblind"}
EXTRA = ("buy", "sell", "long", "short", "muted")
THEME_KEYS = ("primary", "secondary", "warning", "error", "success", "accent", "foreground", "background",
              "surface", "panel")


def theme_dirs() -> list[Path]:
    from platformdirs import user_config_path

    return [Path(__file__).resolve().parents[2] / "themes",  # a checkout or an editable install
            Path(sys.prefix) / "share" / "orderflow-tui" / "themes",  # pip install .
            user_config_path("orderflow-tui") / "themes"]  # the user's own


def load_themes() -> dict[str, Theme]:
    themes: dict[str, Theme] = {}
    for folder in theme_dirs():
        if not folder.is_dir():
            continue
        for path in sorted(folder.glob("*.toml")):
            try:
                data = tomllib.loads(path.read_text(encoding="utf-8"))
                name = data["name"]
            except (OSError, tomllib.TOMLDecodeError, KeyError):
                continue  # a broken user theme is skipped, not fatal
            themes.setdefault(name, Theme(
                name=name, dark=bool(data.get("dark", True)),
                variables={k: data[k] for k in EXTRA if k in data},
                **{k: data[k] for k in THEME_KEYS if k in data}))
    return themes


def resolve(name: str, themes: dict[str, Theme]) -> str:
    """A setting's theme name to a registered one; a clear error naming the choices otherwise."""
    full = BUILTIN_NAMES.get(name, name)
    if full not in themes:
        short = sorted(set(BUILTIN_NAMES) | set(themes) - set(BUILTIN_NAMES.values()))
        raise ValueError(f"config key ui.theme: unknown theme {name!r} (available: {', '.join(short)})")
    return full
