"""The base of every dashboard panel: a bordered box drawn with Textual's Line API.

A panel's ``lines(snap)`` returns plain data: one tuple of ``(text, style)`` runs per screen line,
where a style names theme colours (``buy``, ``sell``, ``long``, ``short``, ``muted``) and Rich
words (``bold reverse buy``). ``show()`` compares them with what is on screen and repaints only the
lines that changed, as cached strips. Nothing here ever asks for a layout pass: a panel's size is
fixed by the CSS (fractions of the screen), so a refresh tick costs a few compared tuples.
"""

from __future__ import annotations

from rich.segment import Segment
from rich.style import Style
from textual.color import Color
from textual.geometry import Region
from textual.strip import Strip
from textual.widget import Widget

NO_STYLE = Style()
Run = tuple  # (text, style name or rich Style)
Line = tuple  # of Runs

THEME_WORDS = ("buy", "sell", "long", "short", "muted")
FALLBACK = {"buy": "green", "sell": "red", "long": "red", "short": "green", "muted": "grey50"}


SHADES = 5


def palette(app) -> dict[str, str]:
    """The theme's colours for the semantic words (taker buy/sell, liquidated long/short, muted),
    and ``shade0``..``shade4``: backgrounds from the theme's own towards its primary colour, for
    cells shaded by volume."""
    theme = app.current_theme if app is not None else None
    variables = theme.variables if theme is not None else {}
    out = {k: variables.get(k, FALLBACK[k]) for k in THEME_WORDS}
    bg = Color.parse(theme.background or ("#000000" if theme.dark else "#ffffff")) if theme else Color(0, 0, 0)
    fg = Color.parse(theme.primary) if theme else Color(80, 120, 200)
    for i in range(SHADES):
        out[f"shade{i}"] = "on " + bg.blend(fg, 0.1 + 0.45 * i / (SHADES - 1)).hex
    return out


class LinePanel(Widget):
    DEFAULT_CSS = """
    LinePanel { border: round $panel-lighten-2; border-title-color: $primary; border-title-style: bold;
                padding: 0 1; height: 1fr; width: 1fr; }
    """

    BOXED = True  # a titled panel; the top and status lines are not

    def __init__(self, title: str = "", **kw) -> None:
        super().__init__(classes="panel" if self.BOXED else "", **kw)
        self.border_title = title
        self._lines: list[Line] = []
        self._strips: dict[int, Strip] = {}
        self._styles: dict = {}
        self._theme = ""
        self._base: Style | None = None  # the widget's own style: rich_style costs ~1 ms a call

    # ---- what subclasses use -------------------------------------------------------------

    @property
    def rows(self) -> int:
        return self.size.height

    @property
    def cols(self) -> int:
        return self.size.width

    def set_title(self, title: str) -> None:
        if self.border_title != title:  # setting it repaints the border: only when it changed
            self.border_title = title

    def set_lines(self, lines: list[Line]) -> None:
        """Show these lines; repaint only those that differ from what is shown."""
        old = self._lines
        if lines == old:
            return
        width = max(1, self.size.width)
        dirty = []
        for y in range(max(len(old), len(lines))):
            if y >= len(old) or y >= len(lines) or old[y] != lines[y]:
                self._strips.pop(y, None)
                dirty.append(Region(0, y, width, 1))
        self._lines = lines
        if dirty:
            self.refresh(*dirty)

    def waiting(self, text: str) -> None:
        """A panel with nothing to show says what it waits for."""
        self.set_lines([((fit(text, self.size.width), "muted"),)])

    def repaint_all(self) -> None:
        """After a theme switch or a resize: every cached strip is stale."""
        self._strips.clear()
        self._styles.clear()
        self._base = None
        self.refresh()

    # ---- Textual -------------------------------------------------------------------------

    def on_resize(self) -> None:
        self._strips.clear()
        # lines built for the old size (a view shown before its first layout) are drawn again on
        # the next refresh tick, even when the data did not change (a paused or finished replay)
        if hasattr(self.app, "last_key"):
            self.app.last_key = None

    def _style(self, name) -> Style:
        if isinstance(name, Style):
            return name
        if not name:
            return NO_STYLE
        style = self._styles.get(name)
        if style is None:
            colors = palette(self.app)
            words = [colors.get(w, w) for w in name.split()] if name else []
            style = Style.parse(" ".join(words)) if words else Style()
            self._styles[name] = style
        return style

    def render_line(self, y: int) -> Strip:
        theme = self.app.theme
        if theme != self._theme:  # a theme switch: resolve every colour again
            self._theme = theme
            self._strips.clear()
            self._styles.clear()
            self._base = None
        strip = self._strips.get(y)
        if strip is not None:
            return strip
        width = self.size.width
        base = self._base
        if base is None:
            base = self._base = self.rich_style
        if y >= len(self._lines):
            strip = Strip.blank(width, base)
        else:
            segments: list[Segment] = []
            text_run, style_run = "", None
            for text, style in self._lines[y]:  # neighbours of one style become one segment
                if not text:
                    continue
                if style == style_run:
                    text_run += text
                    continue
                if text_run:
                    segments.append(Segment(text_run, base + self._style(style_run)))
                text_run, style_run = text, style
            if text_run:
                segments.append(Segment(text_run, base + self._style(style_run)))
            strip = Strip(segments).crop_extend(0, width, base)
        self._strips[y] = strip
        return strip


def fit(text: str, width: int) -> str:
    """Cut a text to a width, marking the cut."""
    return text if len(text) <= width else (text[: max(0, width - 1)] + "…" if width > 0 else "")


def wrap(text: str, width: int, indent: str = "  ") -> list[str]:
    """A text over as many lines as it needs, continuation lines indented; words are not split
    unless a word alone is wider than the line."""
    import textwrap

    if width <= len(indent) + 4:
        return [fit(text, width)]
    return textwrap.wrap(text, width, subsequent_indent=indent, break_on_hyphens=False) or [""]


def line_width(line: Line) -> int:
    return sum(len(text) for text, _ in line)


class Columns:
    """Fixed-width columns that drop out by priority when the panel is narrow.

    ``spec``: (name, width, align '<' or '>', priority: lower stays longer), in display order.
    """

    def __init__(self, spec, width: int) -> None:
        keep, used = set(), 0
        for name, w, _, _ in sorted(spec, key=lambda c: c[3]):
            if used + w + (1 if used else 0) <= width:
                keep.add(name)
                used += w + (1 if used else 0)
        self.spec = [c for c in spec if c[0] in keep]

    def header(self, style: str = "bold") -> Line:
        return self.row({name: name for name, *_ in self.spec}, {name: style for name, *_ in self.spec})

    def row(self, cells: dict, styles: dict | None = None) -> Line:
        runs = []
        for i, (name, w, align, _) in enumerate(self.spec):
            text = fit(str(cells.get(name, "")), w)
            if i:
                runs.append((" ", ""))
            runs.append((text.rjust(w) if align == ">" else text.ljust(w), (styles or {}).get(name, "")))
        return tuple(runs)
