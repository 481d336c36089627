"""The three views the keys switch between."""
