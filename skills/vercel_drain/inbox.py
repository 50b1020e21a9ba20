"""The relay's side of the drain inbox (storage/drain.py): a request's lines are in the store before the drain
answers 200, and leave it once Loki has them (or refused them, or they are spilled).

`write` stores one accepted request (its body zlib-compressed); requests that arrive while a write is under way
wait and go together in the next transaction (a group commit), so a busy drain costs one transaction per group,
not per request. Each line carries its row (`Line.row`); `account` counts a batch's lines against their rows and
`done` lists the rows with nothing left, for the relay to delete (until `deleted` says they are gone). `adopt`
turns a row another relay left (or this one, before a restart) back into lines.
"""

from __future__ import annotations

import asyncio
import zlib

from skills.vercel_drain.translate import Line, parse_body, to_lines
from storage.drain import DrainStore, Inboxed


class Inbox:
    def __init__(self, store: DrainStore) -> None:
        self.store = store
        self._waiting: list[tuple[bytes, int, asyncio.Future[int]]] = []
        self._writing = False
        self._left: dict[int, int] = {}  # row -> its lines not yet settled
        self._done: list[int] = []  # rows with nothing left, not yet deleted
        self._stranded: list[int] = []  # written for a request whose receiver was cancelled: to be released

    async def write(self, body: bytes, lines: int) -> int:
        """Store one accepted request (its body as received); its row id once committed. Raises what the
        database raised (the drain then answers 503, and Vercel retries)."""
        future: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._waiting.append((zlib.compress(body, 1), lines, future))  # a tenth of the bytes to write, or less
        if not self._writing:
            self._writing = True
            await asyncio.shield(self._write_groups())  # a writer cancelled midway must not strand the others
        try:
            return await future
        except asyncio.CancelledError:
            if future.done() and not future.cancelled() and future.exception() is None:
                self._stranded.append(future.result())  # stored, never queued: released for a relay to take
            raise

    async def _write_groups(self) -> None:
        try:
            while self._waiting:
                group, self._waiting = self._waiting, []
                try:
                    ids = await self.store.journal([(body, lines) for body, lines, _ in group])
                except Exception as exc:
                    for *_, future in group:
                        if not future.done():
                            future.set_exception(exc)
                    continue
                for (_, lines, future), row in zip(group, ids, strict=True):
                    if future.done():  # its receiver was cancelled: nobody queues these lines
                        self._stranded.append(row)
                        continue
                    self._left[row] = lines
                    future.set_result(row)
        finally:
            self._writing = False

    def adopt(self, row: Inboxed) -> list[Line]:
        """The lines of a row taken from the inbox, tagged with it (translated again from the body as received:
        an entry without a timestamp gets the time of this second reading)."""
        entries, _ = parse_body(zlib.decompress(row.body))
        lines = to_lines(entries)
        for line in lines:
            line.row = row.id
        if lines:
            self._left[row.id] = len(lines)
        else:
            self._done.append(row.id)
        return lines

    def account(self, rows: dict[int, int]) -> None:
        """A batch with `rows` (row -> lines of it in the batch) is settled: pushed, refused, or spilled."""
        for row, count in rows.items():
            left = self._left.get(row, 0) - count
            if left > 0:
                self._left[row] = left
            else:
                self._left.pop(row, None)
                self._done.append(row)

    def done(self) -> list[int]:
        """The rows with nothing left, to delete (they stay listed until `deleted`)."""
        return list(self._done)

    def deleted(self, rows: list[int]) -> None:
        gone = set(rows)
        self._done = [row for row in self._done if row not in gone]

    def stranded(self) -> list[int]:
        """Rows stored for requests that were cancelled before their lines were queued, handed over for release."""
        rows, self._stranded = self._stranded, []
        return rows

    @property
    def idle(self) -> bool:
        """Nothing held: every row this relay wrote or took is settled and deleted."""
        return not (self._left or self._done or self._waiting or self._writing)


def tag(lines: list[Line], row: int) -> None:
    for line in lines:
        line.row = row


def rows_of(lines: list[Line]) -> dict[int, int]:
    """Inbox row -> how many of `lines` came from it."""
    rows: dict[int, int] = {}
    for line in lines:
        rows[line.row] = rows.get(line.row, 0) + 1
    return rows
