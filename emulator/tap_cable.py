"""A tapped cable: a pty for the host, and two more ptys that hear each direction.

It stands for the internal UART of a machine with a USB serial adapter's RX pin
clipped onto each line: the host talks to the machine through ``url`` as through
any ``PtyLink``, while ``rx_url`` hears every byte the machine sends and
``tx_url`` every byte sent to it. A tap listening there can only listen: its
writes go nowhere, and a tap that does not read loses bytes (counted in
``dropped``), as a real clip would, instead of slowing the line down.
"""

from __future__ import annotations

import contextlib
import os
import tty

from .links import M, PtyLink

__all__ = ["TappedPtyLink"]


class _Mirror:
    """One listening pty: writes never block the line; what does not fit is dropped."""

    def __init__(self) -> None:
        self.master, self.slave = os.openpty()
        tty.setraw(self.master)
        tty.setraw(self.slave)
        os.set_blocking(self.master, False)
        self.url = os.ttyname(self.slave)
        self.dropped = 0

    def copy(self, data: bytes) -> None:
        try:
            written = os.write(self.master, data)
        except BlockingIOError:
            written = 0
        except OSError:
            return
        self.dropped += len(data) - written

    def close(self) -> None:
        for fd in (self.master, self.slave):
            with contextlib.suppress(OSError):
                os.close(fd)


class TappedPtyLink(PtyLink[M]):
    """A ``PtyLink`` whose two directions are also heard on ``rx_url`` and ``tx_url``."""

    def __init__(self, machine: M) -> None:
        self._rx, self._tx = _Mirror(), _Mirror()
        super().__init__(machine)
        machine.attach(self._send_both, self.hang_up)

    @property
    def rx_url(self) -> str:
        return self._rx.url

    @property
    def tx_url(self) -> str:
        return self._tx.url

    @property
    def dropped(self) -> int:
        return self._rx.dropped + self._tx.dropped

    def _deliver(self, data: bytes) -> None:  # what the host wrote, on its way to the machine
        self._tx.copy(data)
        super()._deliver(data)

    def _send_both(self, data: bytes) -> None:
        self._rx.copy(data)
        self._write(data)

    def _release(self) -> None:
        super()._release()
        self._rx.close()
        self._tx.close()
