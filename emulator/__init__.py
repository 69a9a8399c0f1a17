"""The device side: emulated coffee-machine firmware behind real links."""
