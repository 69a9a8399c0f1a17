"""Grafana dashboards shipped with brewbench (JSON), read with importlib.resources."""
