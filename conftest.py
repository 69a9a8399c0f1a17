"""The brewbench plugin is registered by its pytest11 entry point (pip install -e .);
nothing is registered here a second time."""
