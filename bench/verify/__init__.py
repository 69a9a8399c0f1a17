"""Data verification: what a device's emissions reveal, whatever the InfluxDB or the CLI.

From a capture: ``emissions`` (one per decoded field), the field ``catalogue``,
content ``detectors``, ``classify`` (categories per emission), ``canaries`` planted
and found by the ``hunter`` (through ``encodings`` and ``layers``), data
``contracts``, ``redact`` (keyed hashes), ``capture_redaction`` (saving a capture
safely), ``inventory`` (what was collected, tabulated) and ``verification`` (all of
it in one call).
"""
