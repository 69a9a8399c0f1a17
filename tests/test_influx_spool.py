"""The spool keeps every line exactly once across segments, batches and acks."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from brewbench.bench.influx.spool import QUARANTINE, Spool

line = st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\n"),
               min_size=1, max_size=60).map(lambda s: s + "\n")


@settings(max_examples=60, deadline=None)
@given(chunks=st.lists(st.lists(line, min_size=1, max_size=20), min_size=1, max_size=15),
       batch=st.integers(1, 30), segment_bytes=st.integers(1, 2000))
def test_every_line_is_read_once_whatever_the_batches_and_segments(
        chunks: list[list[str]], batch: int, segment_bytes: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        spool = Spool(Path(folder), segment_bytes=segment_bytes)
        for chunk in chunks:
            spool.append("".join(chunk))
        spool.close()
        read: list[bytes] = []
        acked = spool.acked("target")
        for segment in spool.segments():
            offset = acked.get(segment.name, 0)
            while (got := spool.read(segment, offset, batch)).count:
                assert got.count <= batch and len(got.lines()) == got.count
                read.extend(got.lines())
                spool.ack("target", got)
                offset = got.end
        expected = [text.encode() for chunk in chunks for text in chunk]
        assert read == expected
        assert spool.unsent("target") == 0 and spool.unsent("other") == len(expected)


def test_a_half_written_line_waits_and_quarantine_is_not_a_segment(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    spool.append("m v=1i 1\n")
    [segment] = spool.segments()
    with segment.open("ab") as tail:
        tail.write(b"m v=2i")  # a writer caught mid-line
    first = spool.read(segment, 0, 10)
    assert (first.count, first.body) == (1, b"m v=1i 1\n")
    spool.quarantine("server", b"m v=\"x\" 3\n", "field type conflict")
    assert spool.segments() == [segment]
    assert (tmp_path / QUARANTINE).read_text().splitlines()[1] == 'm v="x" 3'
