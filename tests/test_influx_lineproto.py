"""Line protocol: exact escaping, and a round trip through a real influxd."""

from __future__ import annotations

import math
import uuid

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from brewbench.bench.influx_query import InfluxReader, quote_ident
from brewbench.bench.influx_settings import InfluxSettings
from brewbench.bench.influx_write import V1Writer
from brewbench.bench.lineproto import LineEncoder, Point, encode
from brewbench.bench.servers import LocalServer
from brewbench.fixtures.influx import brewbench_influxd, influx_database

__all__ = ["brewbench_influxd"]  # the fixture, until the plugin registers it


def test_escapes_each_part_by_its_own_rules() -> None:
    point = Point.of("run s,x", {"te st": "a=b,c d", "empty": ""},
                     {"f=1": 'say "hi"\\', "n": 5, "x": 0.1, "ok": False},
                     1_700_000_000_123_456_789)
    assert encode([point]) == ('run\\ s\\,x,te\\ st=a\\=b\\,c\\ d f\\=1="say \\"hi\\"\\\\",'
                               'n=5i,x=0.1,ok=false 1700000000123456789\n')


def test_tags_are_sorted_and_newlines_in_keys_become_spaces() -> None:
    point = Point.of("m\nx", {"b": "2", "a": "line\nbreak"}, {"v": 1}, 7)
    assert LineEncoder().line(point) == "m x,a=line break,b=2 v=1i 7"


@pytest.mark.parametrize("bad", [math.nan, math.inf, b"bytes", None])
def test_unwritable_values_are_refused_by_name(bad: object) -> None:
    point = Point("m", (), (("v", bad),), 1)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"float|unsupported field type"):
        encode([point])


def test_a_point_needs_a_field() -> None:
    with pytest.raises(ValueError, match="no field"):
        Point.of("m", {"a": "b"}, {}, 1)


def test_the_series_cache_gives_the_same_lines_as_a_fresh_encoder() -> None:
    encoder = LineEncoder()
    points = [Point.of("m", {"t": str(i % 3)}, {"v": i}, i) for i in range(10)]
    assert encoder.lines(points) == encoder.lines(points) == encode(points)


text = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
               min_size=1, max_size=40)
tag_text = st.text(st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp"),
                                 blacklist_characters="\\"),
                   min_size=1, max_size=20).filter(lambda s: s.strip() == s and s.strip())


@pytest.fixture(scope="module")
def roundtrip_db(brewbench_influxd: LocalServer, tmp_path_factory: pytest.TempPathFactory
                 ) -> InfluxSettings:
    return influx_database(brewbench_influxd.url, "roundtrip", tmp_path_factory.mktemp("spool"))


@settings(max_examples=60, deadline=None)
@given(value=text, tag=tag_text, number=st.integers(-(2**63), 2**63 - 1),
       real=st.floats(allow_nan=False, allow_infinity=False),
       time_ns=st.integers(0, 4_000_000_000_000_000_000))
def test_strings_numbers_and_ns_timestamps_survive_influxd(
        roundtrip_db: InfluxSettings, value: str, tag: str, number: int, real: float,
        time_ns: int) -> None:
    measurement = f"roundtrip {uuid.uuid4().hex}"  # a fresh series per example, one database
    writer = V1Writer(roundtrip_db)
    point = Point.of(measurement, {"tag": tag}, {"s": value, "i": number, "f": real, "b": True},
                     time_ns)
    writer.post(encode([point]).encode())
    writer.close()
    reader = InfluxReader(roundtrip_db)
    rows = [row for s in reader.query(f"SELECT * FROM {quote_ident(measurement)}")
            for row in s.rows()]
    reader.close()
    assert len(rows) == 1
    row = rows[0]
    row["f"] = float(row["f"])  # JSON shows a whole float without its decimal point
    assert row == {"time": time_ns, "s": value, "i": number, "f": real, "b": True, "tag": tag}
