"""An emulated De'Longhi ECAM machine: ECAM frames on a Bluetooth LE peripheral."""
