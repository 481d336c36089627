"""The accumulated statistics: a local SQLite file, safe across crashes, restarts and readers."""
