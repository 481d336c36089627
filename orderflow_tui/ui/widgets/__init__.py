"""One widget per panel. Each has ``show(snapshot)``; none reads the engine directly."""
