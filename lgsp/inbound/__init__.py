"""Inbound channels that fetch messages for the province instead of waiting for them to be sent."""
