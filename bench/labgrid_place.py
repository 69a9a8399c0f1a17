"""``labgrid://PLACE``: a machine on another host, reached through a labgrid place.

    labgrid://lobby                                    the place, coordinator from LG_COORDINATOR
    labgrid://lobby?coordinator=lab.example:20408      a coordinator of its own
    labgrid://lobby?family=jura&ign_set_control        the rest goes to the serial+rfc2217 spec
    labgrid://lobby,kitchen                            a pool: the first place that is free

The bench acquires the place through the coordinator (bench/labgrid_client.py), reads its
``NetworkSerialPort`` (the exporter's RFC 2217 or raw TCP port), opens it with the
``serial+rfc2217://`` (or ``serial+socket://``) transport and releases the place when the
device closes, also when the run fails or is interrupted (Ctrl-C, SIGTERM). Inside a
pytest session (``held_for_session``) a place is acquired at its first test and held to
the session's end, so its tests pay for one acquisition and nobody takes it in between.
The drivers know nothing of labgrid: this module turns the place into a spec they know.

A pool lists several places of identical machines. Each pytest-xdist worker tries them
starting at its own index (worker 1 of ``a,b,c`` tries ``b``, ``c``, ``a``) and keeps the
first it acquires, so workers spread over the pool and, labgrid's acquire being atomic,
two of them never share a machine.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from types import FrameType
from typing import Any

from ..drivers.errors import DeviceSpecError
from ..drivers.specs import DeviceSpec, parse_spec
from .labgrid_client import Interrupted, LabgridClient, LabgridError, PlaceHeld, coordinator_of

__all__ = ["SCHEME", "Lease", "Place", "check_place_spec", "held_for_session", "is_pool",
           "lease_place", "passed_on", "places_of", "session_place"]

log = logging.getLogger(__name__)
SCHEME = "labgrid"
#: what the scheme itself takes; every other parameter goes on to the serial spec
OWN_PARAMS = ("coordinator",)
LINK_SCHEMES = {"rfc2217": "serial+rfc2217", "raw": "serial+socket"}


@dataclass
class Place:
    """A place this process acquired: its name at the coordinator and its resources."""

    name: str
    client: LabgridClient
    resources: list[dict[str, Any]]

    def serial_port(self) -> dict[str, Any]:
        """The place's ``NetworkSerialPort`` arguments (host, port, speed, protocol).

        Raises:
            LabgridError: the place has none.
        """
        for resource in self.resources:
            if "NetworkSerialPort" in resource:
                return dict(resource["NetworkSerialPort"] or {})
        classes = ", ".join(sorted(cls for r in self.resources for cls in r)) or "none"
        raise LabgridError(self.client.device, f"labgrid place {self.name} has no "
                           f"NetworkSerialPort (its resources: {classes}); export the "
                           "machine's serial port (docs/hardware.md)")

    @property
    def has_power(self) -> bool:
        return any(cls.endswith("PowerPort") for r in self.resources for cls in r)

    def link_spec(self, spec: DeviceSpec) -> DeviceSpec:
        """The serial spec that reaches the place's port, with ``spec``'s other parameters."""
        port = self.serial_port()
        protocol = str(port.get("protocol", "rfc2217"))
        scheme = LINK_SCHEMES.get(protocol)
        if scheme is None:
            raise LabgridError(self.client.device, f"labgrid place {self.name}: NetworkSerialPort "
                               f"protocol "
                               f"{protocol!r} is neither rfc2217 nor raw")
        params = passed_on(spec)
        if scheme == "serial+rfc2217":  # RFC 2217 sets the baud; a raw socket has none
            params.setdefault("baud", str(port.get("speed", 115200)))
        return DeviceSpec(spec.text, scheme, f"{port['host']}:{port['port']}", params)

    def describe(self) -> dict[str, str]:
        """What a capture records of the place."""
        return {"labgrid_place": self.name, "labgrid_coordinator": self.client.coordinator}

    def power(self, on: bool) -> None:
        """Switch the place's power through labgrid's power driver (``labgrid-client power``)."""
        self.client.run(self.name, "power", "on" if on else "off")

    def release(self) -> None:
        """Give the place back; a failure is logged, never raised over the run's own error."""
        try:
            self.client.run(self.name, "release")
        except LabgridError as exc:
            log.warning("labgrid place %s was not released: %s", self.name, exc)


def passed_on(spec: DeviceSpec) -> dict[str, str]:
    """The parameters of a ``labgrid://`` spec that go on to the serial spec."""
    return {k: v for k, v in spec.params.items() if k not in OWN_PARAMS}


def check_place_spec(spec: DeviceSpec) -> DeviceSpec:
    """Refuse a ``labgrid://`` spec without a place, before anything is contacted; return
    a stand-in serial spec with the parameters passed on, for the transport to check.

    Raises:
        DeviceSpecError: no place name, a path or port after it, a place listed twice.
    """
    names = places_of(spec)
    if not all(names) or any("/" in n or ":" in n for n in names):
        raise DeviceSpecError(f"{spec.text}: labgrid:// names a place or a pool of places, e.g. "
                              "labgrid://lobby?coordinator=HOST:PORT or labgrid://lobby,kitchen")
    if len(set(names)) < len(names):
        raise DeviceSpecError(f"{spec.text}: a place is listed twice in the pool")
    return DeviceSpec(spec.text, LINK_SCHEMES["rfc2217"], "place:0", passed_on(spec))


def places_of(spec: DeviceSpec) -> list[str]:
    """The places a spec names: one, or a pool."""
    return spec.target.split(",")


def is_pool(text: str) -> bool:
    """Whether ``text`` is a ``labgrid://`` spec naming several places."""
    spec = parse_spec(text)
    return spec.scheme == SCHEME and len(places_of(spec)) > 1


def acquire_place(spec: DeviceSpec, start: int = 0) -> Place:
    """Acquire the place ``spec`` names (of a pool: the first free one from index
    ``start`` on) and read its resources.

    Raises:
        PlaceHeld: someone holds it, or every place of the pool (the message names them).
        LabgridError: unknown place, coordinator unreachable, no serial port.
    """
    check_place_spec(spec)
    client = LabgridClient(coordinator_of(spec.params.get("coordinator")), spec.text)
    names = places_of(spec)
    names = names[start % len(names):] + names[:start % len(names)]
    held: list[PlaceHeld] = []
    for candidate in names:
        try:
            said = client.run(candidate, "acquire")
            break
        except PlaceHeld as exc:
            held.append(exc)
        except Interrupted as exc:  # the acquire was let finish: give back what it took
            if exc.done:
                Place(_acquired_name(exc.said, candidate), client, []).release()
            raise
    else:
        if len(held) == 1:
            raise held[0]
        who = ", ".join(f"{n} by {e.holder}" for n, e in zip(names, held, strict=True))
        raise PlaceHeld(spec.text, f"every labgrid place of the pool is held ({who}) on "
                        f"coordinator {client.coordinator}", held[0].holder)
    return _with_resources(Place(_acquired_name(said, candidate), client, []))


def _with_resources(place: Place) -> Place:
    """``place`` with its resources read; released again when they cannot be."""
    client, name = place.client, place.name
    try:
        place.resources = _resources(client.run(name, "env"), place)
        place.serial_port()
    except BaseException:
        place.release()
        raise
    return place


def _acquired_name(said: str, asked: str) -> str:
    """The place labgrid acquired (it matches a pattern: ``lob`` may mean ``lobby``)."""
    for line in said.splitlines():
        if line.startswith("acquired place "):
            return line.removeprefix("acquired place ").strip()
    return asked


def _resources(env_yaml: str, place: Place) -> list[dict[str, Any]]:
    import yaml  # type: ignore[import-untyped]  # labgrid's dependency; only for labgrid://

    try:
        env = yaml.safe_load(env_yaml) or {}
        resources = env["targets"][place.name]["resources"]
    except (yaml.YAMLError, KeyError, TypeError) as exc:
        raise LabgridError(place.client.device, f"labgrid place {place.name}: labgrid-client env "
                           "gave no resources") from exc
    return [r for r in resources or [] if isinstance(r, dict)]


@dataclass
class Lease:
    """A place used by one open device; ``end`` releases it unless a session holds it."""

    place: Place
    owned: bool
    _restore: Any = field(default=None, repr=False)

    def end(self) -> None:
        if self.owned:
            self.place.release()
            _restore_sigterm(self._restore)


class _Session:
    """The places a pytest session holds, by spec, until it ends; ``worker`` is the
    pytest-xdist worker's index (where it starts in a pool)."""

    def __init__(self, worker: int = 0) -> None:
        self.worker = worker
        self.places: dict[tuple[str, str], Place] = {}
        self.lock = threading.Lock()
        self._restore: Any = None

    def place_for(self, spec: DeviceSpec) -> Place:
        key = (coordinator_of(spec.params.get("coordinator")), spec.target)
        with self.lock:
            if key not in self.places:
                if self._restore is None:  # a session that uses no place keeps SIGTERM as is
                    self._restore = _sigterm_interrupts()
                self.places[key] = acquire_place(spec, self.worker)
            return self.places[key]

    def release_all(self) -> None:
        with self.lock:
            places, self.places = list(self.places.values()), {}
        interrupted: KeyboardInterrupt | None = None
        for place in places:
            try:
                place.release()
            except KeyboardInterrupt as exc:  # that release was let finish; release the rest
                interrupted = exc
        _restore_sigterm(self._restore)
        self._restore = None
        if interrupted is not None:
            raise interrupted


_SESSIONS: list[_Session] = []  # the pytest plugin's session, when one is running


def lease_place(text: str) -> Lease:
    """The place a ``labgrid://`` spec names, acquired (or the session's, already held).

    Raises:
        DeviceSpecError: no place name.
        LabgridError: the place cannot be had (see ``acquire_place``).
    """
    spec = parse_spec(text)
    if _SESSIONS:
        return Lease(_SESSIONS[-1].place_for(spec), owned=False)
    restore = _sigterm_interrupts()
    try:
        return Lease(acquire_place(spec), owned=True, _restore=restore)
    except BaseException:
        _restore_sigterm(restore)
        raise


def session_place(text: str) -> Place | None:
    """The place the running session holds for spec ``text`` (None if it holds none)."""
    spec = parse_spec(text)
    if not _SESSIONS or spec.scheme != SCHEME:
        return None
    return _SESSIONS[-1].places.get((coordinator_of(spec.params.get("coordinator")), spec.target))


@contextlib.contextmanager
def held_for_session(worker: int = 0) -> Iterator[None]:
    """Hold every place acquired inside the block until it ends, then release them all;
    ``worker`` is where this session starts in a pool (its pytest-xdist index)."""
    session = _Session(worker)
    _SESSIONS.append(session)
    try:
        yield
    finally:
        _SESSIONS.remove(session)
        session.release_all()


def _sigterm_interrupts() -> Any:
    """Let SIGTERM (a CI job cancelled, ``kill``) unwind like Ctrl-C, so the ``finally``
    that releases a place runs; only where Python would otherwise just die. Returns what
    to restore."""
    if threading.current_thread() is not threading.main_thread():
        return None
    if signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        return None
    signal.signal(signal.SIGTERM, _interrupt)
    return signal.SIG_DFL


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def _restore_sigterm(previous: Any) -> None:
    if previous is not None and threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, previous)
