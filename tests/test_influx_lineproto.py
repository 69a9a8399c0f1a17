"""Line protocol: exact escaping, and a round trip through a real influxd."""

from __future__ import annotations

import math
import uuid

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from brewbench.bench.influx.lineproto import LineEncoder, Point, encode, parse
from brewbench.bench.influx.query import InfluxReader, quote_ident
from brewbench.bench.influx.servers import LocalServer
from brewbench.bench.influx.settings import InfluxSettings
from brewbench.bench.influx.writers import V1Writer
from brewbench.fixtures.influx_servers import brewbench_influxd, influx_database

__all__ = ["brewbench_influxd"]  # the fixture, until the plugin registers it


def test_escapes_each_part_by_its_own_rules() -> None:
    point = Point.of("run s,x", {"te st": "a=b,c d", "empty": ""},
                     {"f=1": 'say "hi"\\', "n": 5, "x": 0.1, "ok": False},
                     1_700_000_000_123_456_789)
    assert encode([point]) == ('run\\ s\\,x,te\\ st=a\\=b\\,c\\ d f\\=1="say \\"hi\\"\\\\",'
                               'n=5i,x=0.1,ok=false 1700000000123456789\n')


def test_tags_are_sorted_and_newlines_anywhere_become_spaces() -> None:
    point = Point.of("m\nx", {"b": "2", "a": "line\nbreak"}, {"v": 1, "s": "two\r\nlines"}, 7)
    assert LineEncoder().line(point) == 'm\\ x,a=line\\ break,b=2 v=1i,s="two  lines" 7'
    assert encode([point]).count("\n") == 1


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


text = st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00"),
               min_size=1, max_size=40)
tag_text = st.text(st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp")),
                   min_size=1, max_size=20)


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
    one_line = value.replace("\n", " ").replace("\r", " ")  # one point, one line
    tag = tag + " " if tag.endswith("\\") else tag  # no escape can end a tag in a backslash
    assert row == {"time": time_ns, "s": one_line, "i": number, "f": real, "b": True, "tag": tag}


any_text = st.text(st.characters(exclude_categories=["Cs"]), min_size=1, max_size=30)
field_value = st.one_of(any_text, st.integers(-(2**63), 2**63 - 1), st.booleans(),
                        st.floats(allow_nan=False, allow_infinity=False))


def as_written(text: str) -> str:
    """What a tag value becomes on the way through line protocol."""
    text = text.replace("\n", " ").replace("\r", " ")
    return text + " " if text.endswith("\\") else text


def name_written(text: str) -> str:
    """What a measurement, tag key or field key becomes on the way through line protocol."""
    return text.replace("\n", " ").replace("\r", " ").replace("\\", "/")


def measurement_written(text: str) -> str:
    text = name_written(text)
    return "_" + text[1:] if text.startswith("#") else text


@settings(max_examples=300, deadline=None)
@given(measurement=any_text, tags=st.dictionaries(any_text, any_text, max_size=4),
       fields=st.dictionaries(any_text, field_value, min_size=1, max_size=4),
       time_ns=st.integers(0, 2**62))
def test_parse_reads_back_exactly_what_the_encoder_wrote(
        measurement: str, tags: dict[str, str], fields: dict[str, object], time_ns: int) -> None:
    point = Point.of(measurement, tags, fields, time_ns)  # type: ignore[arg-type]
    [back] = parse(encode([point]))
    assert back.measurement == measurement_written(measurement)
    assert back.tags == tuple((name_written(k), as_written(v)) for k, v in point.tags)
    assert back.fields == tuple(
        (name_written(k), v.replace("\n", " ").replace("\r", " ") if isinstance(v, str) else v)
        for k, v in point.fields)
    assert back.time_ns == time_ns


def test_parse_skips_comments_and_names_a_bad_line() -> None:
    text = '# kept by the spool\nm,t=a v=1i,s="x y" 5\n\n'
    assert parse(text) == [Point(measurement="m", tags=(("t", "a"),),
                                 fields=(("v", 1), ("s", "x y")), time_ns=5)]
    with pytest.raises(ValueError, match="not line protocol: 'm v=1i'"):
        parse("m v=1i")


name = st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=15)


@settings(max_examples=60, deadline=None)
@given(measurement=name, tag_key=name, tag_value=name, field_key=name, value=field_value)
def test_any_names_survive_influxd_as_the_encoder_documents(
        roundtrip_db: InfluxSettings, measurement: str, tag_key: str, tag_value: str,
        field_key: str, value: object) -> None:
    keys = {name_written(tag_key), name_written(field_key)}
    assume(len(keys) == 2 and "time" not in keys)
    measurement = f"{measurement} {uuid.uuid4().hex}"
    point = Point.of(measurement, {tag_key: tag_value}, {field_key: value}, 42)  # type: ignore[dict-item]
    writer = V1Writer(roundtrip_db)
    writer.post(encode([point]).encode())
    writer.close()
    reader = InfluxReader(roundtrip_db)
    [series] = reader.query(f"SELECT * FROM {quote_ident(measurement_written(measurement))}")
    reader.close()
    [row] = list(series.rows())
    if isinstance(value, float):
        row[name_written(field_key)] = float(row[name_written(field_key)])
    elif isinstance(value, str):
        value = value.replace("\n", " ").replace("\r", " ")
    assert row == {"time": 42, name_written(tag_key): as_written(tag_value),
                   name_written(field_key): value}
