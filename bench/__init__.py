"""The bench: from a device spec to verified, logged results; knows nothing of pytest.

Rooms: ``verify/`` (what a device collects), ``influx/`` (where results go),
``nightly/`` (every firmware, every night), ``cli/`` (the ``brewbench`` command).
Shared by them: ``capture`` (the timeline), ``devices`` (spec -> connected machine),
``scenario`` (the standard actions), ``results`` (keeping a test's results),
``printout`` and ``table`` (text for people), ``usb_pcap`` (captures as pcap).
"""
