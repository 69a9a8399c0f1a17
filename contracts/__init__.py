"""Data contracts shipped with brewbench (TOML), read with importlib.resources."""
