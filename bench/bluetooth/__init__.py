"""Bluetooth logs made elsewhere (a phone's HCI snoop log) as brewbench captures.

``btsnoop`` reads the file's records, ``att`` follows its HCI ACL packets through
L2CAP to the ATT protocol's writes, notifications and reads, and
``btsnoop_import`` turns those into a capture.
"""
