"""Fault-injection scenarios: the whole service in real processes, one injected fault each.

A package (unlike the other test directories) so that its ``conftest.py`` does not take the
module name ``conftest`` from ``tests/conftest.py``, which the test modules import.
"""
