"""The per-key cost budget, shared by every gateway replica: a leaky bucket kept in MongoDB
(``rateLimits``, one document per API key), drawn from in slices.

Why slices: one atomic update per request would add a database command (and a round trip)
to every request. Instead a replica leases a slice of the key's bucket (``slice`` points,
or what one request needs if more) in one ``findAndModify``, spends it on the requests it
serves, puts refunds (requested minus actual cost) back into it, and leases again when it
runs out. Every point a request spends was taken from the shared bucket, so N replicas
never give a key more than one budget; what they can give less is the slices they hold
unused, at most ``slice`` each, and only for ``hold_s`` seconds (an unused slice is then
dropped, and the bucket's refill makes up for it). With the default slice of a twentieth of
the capacity that is within 5% per replica, and a key that keeps one replica busy leases
about once per ``slice`` points spent.

A refused lease tells how much the bucket holds; the replica then refuses that key's
requests needing more without asking again until the refill could have covered them.
Replicas' clocks (NTP) date the refill.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from pymongo.errors import PyMongoError

from app.account import repository
from app.db import Database
from app.tenant import Tenant

log = logging.getLogger(__name__)


@dataclass(slots=True)
class _Slice:
    points: float = 0.0
    until: float = 0.0  # the slice is dropped after this (monotonic seconds)
    shared_left: float = 0.0  # what the shared bucket held at the last lease
    shared_at: float = 0.0  # when (monotonic seconds)
    empty_until: float = 0.0  # refused lease: no other lease needing more before this


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    available: float  # points this key can still spend (its slice and the shared bucket)
    retry_after_s: float = 0.0


class SharedBudget:
    """Per process: the slices this replica holds, per API key."""

    def __init__(
        self,
        capacity: float,
        restore_rate: float,
        *,
        slice_points: float | None = None,
        hold_s: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        max_keys: int = 10_000,
    ) -> None:
        self.capacity = capacity
        self.restore_rate = restore_rate
        self.enabled = restore_rate > 0
        self.slice_points = slice_points or max(1.0, capacity / 20)
        self.hold_s = hold_s
        self._clock = clock
        self._wall_clock = wall_clock
        self._max_keys = max_keys
        self._slices: OrderedDict[str, _Slice] = OrderedDict()
        self._locks: dict[str, asyncio.Lock] = {}

    def _slice(self, key_id: str) -> _Slice:
        found = self._slices.get(key_id)
        if found is None:
            if len(self._slices) >= self._max_keys:
                self._slices.popitem(last=False)
            found = self._slices[key_id] = _Slice()
        else:
            self._slices.move_to_end(key_id)
        if found.until < self._clock():
            found.points = 0.0  # held too long: dropped, never handed back
        return found

    async def take(self, db: Database, account_id: str, key_id: str, points: float) -> Decision:
        """Spend ``points`` of the key's budget, leasing a slice when this replica's runs out."""
        held = self._slice(key_id)
        if held.points >= points:
            held.points -= points
            return Decision(True, self._available(held))
        need = points - held.points
        now = self._clock()
        if now < held.empty_until and need > held.shared_left:
            return self._refused(held, need, now)
        tenant = Tenant(account_id, db)
        lock = self._locks.setdefault(key_id, asyncio.Lock())
        async with lock:  # one lease at a time per key in this replica
            held = self._slice(key_id)
            if held.points >= points:
                held.points -= points
                return Decision(True, self._available(held))
            need = points - held.points
            try:
                granted, left = await repository.lease_budget(
                    tenant,
                    key_id,
                    now=self._wall_clock(),
                    capacity=self.capacity,
                    rate=self.restore_rate,
                    want=max(self.slice_points, need),
                    need=need,
                )
            except PyMongoError:
                # The budget cannot be read: the request goes on (and meets the same outage
                # in its own reads, which report it); limits never fail a request themselves.
                log.warning("cost budget unavailable; request admitted", exc_info=True)
                return Decision(True, self._available(held))
            now = self._clock()
            held.shared_left, held.shared_at = left, now
            if granted < need:
                held.empty_until = now + (need - left) / self.restore_rate
                return self._refused(held, need, now)
            held.points += granted - points
            held.until = now + self.hold_s
            return Decision(True, self._available(held))

    def _refused(self, held: _Slice, need: float, now: float) -> Decision:
        return Decision(False, self._available(held), retry_after_s=max(0.0, held.empty_until - now))

    def _available(self, held: _Slice) -> float:
        """What the key can spend now, as far as this replica knows: its slice, and the shared
        bucket as last seen plus its refill since (the two never exceed the capacity)."""
        refilled = held.shared_left + (self._clock() - held.shared_at) * self.restore_rate
        return min(self.capacity, held.points + refilled)

    def give_back(self, key_id: str, points: float) -> float:
        """A request's unused points go back into this replica's slice; returns the key's
        points now available here."""
        held = self._slice(key_id)
        if points > 0:
            held.points += points
            held.until = max(held.until, self._clock() + self.hold_s)
        return self._available(held)
