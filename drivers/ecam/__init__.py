"""The De'Longhi ECAM family: machines driven over Bluetooth LE by the vendor's app.

``frames`` is the frame format (0x0D requests, 0xD0 answers, a length, a
command, data, a CRC-CCITT seeded with 0x1D0F) and a splitter that joins frames
spread over several notifications; ``monitor`` reads the status frame the
machine answers a monitor request with. There is no driver or emulator yet:
the codec decodes captured traffic (docs/machines/ecam.md).
"""
