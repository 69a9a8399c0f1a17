"""The De'Longhi ECAM family: machines driven over Bluetooth LE by the vendor's app.

``frames`` is the frame format (0x0D requests, 0xD0 answers, a length, a
command, data, a CRC-CCITT seeded with 0x1D0F) and a splitter that joins frames
spread over several notifications; ``monitor`` reads the status frame;
``commands`` builds and reads the data of the other requests and answers;
``recipes`` names beverages and counters; ``records`` says what a frame means in
a capture; ``gatt`` is the published GATT layout. ``connection`` sends requests
over a transport and matches answers, ``machine`` maps the bench's actions onto
them, ``catalogue`` says which data category each detail carries
(docs/machines/ecam.md).
"""
