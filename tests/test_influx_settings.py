"""InfluxDB settings: command line over environment over pyproject, secrets kept out of sight."""

from __future__ import annotations

from pathlib import Path

import pytest

from brewbench.bench.influx.settings import DEFAULT_SPOOL, InfluxConfigError, resolve

PYPROJECT = """
[tool.brewbench.influx]
url = "http://from-file:8086"
db = "filedb"
spool = "results/spool"
batch_size = 100
"""


def write_pyproject(folder: Path, text: str = PYPROJECT) -> Path:
    path = folder / "pyproject.toml"
    path.write_text(text)
    return path


def test_nothing_configured_means_spool_only(tmp_path: Path) -> None:
    settings = resolve(env={}, pyproject=tmp_path / "missing.toml")
    assert (settings.url, settings.api, settings.spool) == (None, "", DEFAULT_SPOOL)
    assert settings.target == f"spool {DEFAULT_SPOOL}"


def test_command_line_beats_environment_beats_pyproject(tmp_path: Path) -> None:
    path = write_pyproject(tmp_path)
    from_file = resolve(env={}, pyproject=path)
    assert (from_file.url, from_file.db, from_file.api, from_file.batch_size) == \
        ("http://from-file:8086", "filedb", "v1", 100)
    assert from_file.spool == tmp_path / "results" / "spool"  # relative to the file
    from_env = resolve(env={"INFLUX_URL": "http://from-env:8086", "INFLUX_DB": "envdb"},
                       pyproject=path)
    assert (from_env.url, from_env.db) == ("http://from-env:8086", "envdb")
    from_cli = resolve({"url": "http://from-cli:8086", "db": None}, pyproject=path,
                       env={"INFLUX_URL": "http://from-env:8086", "INFLUX_DB": "envdb"})
    assert (from_cli.url, from_cli.db) == ("http://from-cli:8086", "envdb")


def test_a_bucket_selects_the_v2_api_and_needs_an_org(tmp_path: Path) -> None:
    env = {"INFLUX_URL": "http://x:8086", "INFLUX_BUCKET": "bench", "INFLUX_TOKEN": "s3cret"}
    with pytest.raises(InfluxConfigError, match="needs both a bucket and an org"):
        resolve(env=env, pyproject=tmp_path / "none")
    settings = resolve(env={**env, "INFLUX_ORG": "lab"}, pyproject=tmp_path / "none")
    assert (settings.api, settings.bucket, settings.org) == ("v2", "bench", "lab")


def test_both_db_and_bucket_need_an_explicit_api(tmp_path: Path) -> None:
    env = {"INFLUX_URL": "http://x:8086", "INFLUX_BUCKET": "b", "INFLUX_ORG": "o",
           "INFLUX_DB": "d"}
    with pytest.raises(InfluxConfigError, match="both were given"):
        resolve(env=env, pyproject=tmp_path / "none")
    assert resolve({"api": "v1"}, env=env, pyproject=tmp_path / "none").api == "v1"


@pytest.mark.parametrize("values,message", [
    ({"url": "influx:8086", "db": "d"}, "must start with http"),
    ({"url": "http://x", "db": "d", "batch_size": "lots"}, "batch_size: cannot use"),
    ({"url": "http://x", "db": "d", "flush_interval": 0}, "must be positive"),
    ({"url": "http://x"}, "say where points go"),
    ({"colour": "blue"}, "unknown InfluxDB setting"),
])
def test_bad_settings_say_what_to_fix(tmp_path: Path, values: dict[str, object],
                                      message: str) -> None:
    with pytest.raises(InfluxConfigError, match=message):
        resolve(values, env={}, pyproject=tmp_path / "none")


def test_secrets_never_come_from_pyproject(tmp_path: Path) -> None:
    path = write_pyproject(tmp_path, PYPROJECT + 'token = "committed-by-mistake"\n')
    with pytest.raises(InfluxConfigError, match="must not hold token") as error:
        resolve(env={}, pyproject=path)
    assert "committed-by-mistake" not in str(error.value)


def test_token_and_password_stay_out_of_repr_and_target(tmp_path: Path) -> None:
    settings = resolve(env={"INFLUX_URL": "http://x:8086", "INFLUX_DB": "d",
                            "INFLUX_USERNAME": "bench", "INFLUX_PASSWORD": "pa55word",
                            "INFLUX_TOKEN": "t0ken"}, pyproject=tmp_path / "none")
    shown = repr(settings) + str(settings) + settings.target + settings.target_key
    assert settings.password == "pa55word" and settings.token == "t0ken"
    assert "pa55word" not in shown and "t0ken" not in shown


def test_a_binary_pyproject_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "pyproject.toml"
    path.write_bytes(b"\xf6\x00\xff garbage")
    with pytest.raises(InfluxConfigError, match="cannot read"):
        resolve(env={}, pyproject=path)
