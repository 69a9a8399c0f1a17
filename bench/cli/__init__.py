"""The ``brewbench`` command: the only part of the bench that reads argv.

``main`` parses and dispatches (run, emulate); ``influx_commands`` (push, query),
``inventory_command`` and ``nightly_command`` add their sub-commands.
"""
