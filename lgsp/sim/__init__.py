"""Simulators for tests, demos and provinces without access to the national systems.

- ``axis``: the national document axis (DOMAIN.md §3);
- ``portal``: the national public-service portal (DOMAIN.md §4);
- ``receiver``: a stand-in local system that records what it receives.

Each one is an aiohttp application that keeps its state in SQLite, with faults that can be switched
on (``faults``). ``lgsp sim …`` starts them (``cli``).
"""
