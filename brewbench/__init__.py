"""brewbench: find out, with evidence, what data a connected coffee machine collects.

The subpackages live in the repository's top-level folders and are imported as
``brewbench.drivers``, ``brewbench.emulator``, ``brewbench.bench`` and
``brewbench.fixtures``.
"""

__version__ = "0.1.0"
