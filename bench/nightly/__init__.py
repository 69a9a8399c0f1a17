"""``brewbench nightly``: the suite across firmware versions and devices, diffed and reported."""
