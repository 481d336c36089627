"""The analytics engine: events in, immutable snapshots and finished facts out. No I/O, no UI."""
