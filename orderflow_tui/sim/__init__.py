"""The simulated exchange: venue-shaped websocket and REST servers on 127.0.0.1 for `demo` and the tests.

Not part of the live path: nothing under feeds/ imports it except the demo session.
"""
