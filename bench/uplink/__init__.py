"""The uplink: what a machine sends to its cloud, captured on servers the bench runs."""
