"""The performance harness. Numbers come from here, never from timed unit tests."""
