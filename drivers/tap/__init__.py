"""A passive tap: listen to a machine's own UART without driving it.

``framers`` turns the bytes of one direction into units (frames, lines, runs
between pauses, length-prefixed blocks, the known families' formats); ``listener``
reads one or two ports read-only and reports every unit as a record, attributed
to whatever action the operator marks.
"""
