"""`brewbench run` over Bluetooth LE shows what the machine broadcasts, without the values."""

import subprocess
import sys
from pathlib import Path

BREWBENCH = [sys.executable, "-m", "brewbench"]


def test_run_over_ble_lists_advertisement_fields(tmp_path: Path) -> None:
    done = subprocess.run([*BREWBENCH, "run", "--device", "emu://?firmware=2.1&transport=ble",
                           "--results", str(tmp_path)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    [adverts] = [line for line in lines if line.strip().startswith("ble-adv")]
    assert "local_name" in adverts and "manufacturer_data" in adverts and "rssi" in adverts
    [reads] = [line for line in lines if line.strip().startswith("ble ")]
    assert "4 link record(s)" in reads and "value" in reads
    assert "Acme Kaffeetechnik" not in reads  # field names only, never values
    assert "over ble" in done.stdout
