"""Wire protocols of the national systems, written once and used by the bus's clients and by the simulators."""
