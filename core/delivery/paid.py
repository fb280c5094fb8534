"""Paid broadcasts (Telegram's ``allow_paid_broadcast``): a faster pace, paid in Stars.

Telegram lets a bot send up to 1,000 messages a second instead of about 30, and charges
0.1 Star for each message above the free 30 in a second. Opt-in, with a daily budget of Stars:
while the budget lasts, the overall pace is the paid one and every message asks for paid
broadcast; once it is spent, sending falls back to the free pace until the next UTC day.
Every paid message is counted at 0.1 Star: Telegram counts the seconds as messages arrive,
which network and event-loop jitter can bunch, so only this upper bound (at most 3% over at
1,000 a second) is sure never to let the real charge pass the budget.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from datetime import date

from core.delivery.ratelimit import SAFETY, OverallGate, Pacer
from core.ports import Clock, Timer

MARGIN = 0.05  # seconds: messages that left a second apart may arrive a little closer


@dataclass(frozen=True, slots=True)
class PaidBroadcastConfig:
    daily_stars: float  # the most spent in one UTC day; 0 never pays
    paid_per_second: float = 1000.0  # Telegram's ceiling for paid broadcasts
    free_per_second: float = 30.0
    stars_per_message: float = 0.1  # for each message above the free rate


class PaidBroadcast:
    """The budget the delivery pace and the Telegram adapter share. The pace asks whether to
    go fast (``active``); the adapter reserves a paid message just before it leaves
    (``reserve``, so concurrent sends never overspend), reports every message as it leaves
    (``left``: a paid one is charged, and every one counts towards the free rate), and
    ``refund``s one that then failed."""

    def __init__(self, config: PaidBroadcastConfig, clock: Clock, timer: Timer) -> None:
        if config.paid_per_second <= config.free_per_second:
            raise ValueError("the paid pace must be above the free one")
        self.config, self.clock, self.timer = config, clock, timer
        self.spent = 0.0  # Stars, today
        self.paid_messages = 0  # charged today
        self._reserved = 0
        self._day: date | None = None
        self._last_second: deque[float] = deque()  # every message that left, paid or not

    def active(self) -> bool:
        """True while today's budget covers one more paid message."""
        self._roll_day()
        cost = self.config.stars_per_message
        return self.spent + (self._reserved + 1) * cost <= self.config.daily_stars + 1e-9

    def reserve(self) -> bool:
        if not self.active():
            return False
        self._reserved += 1
        return True

    def release(self) -> None:
        """A reserved message did not go out."""
        self._reserved = max(self._reserved - 1, 0)

    def refund(self) -> None:
        """A message charged as it left was not delivered after all (refused, failed)."""
        self.spent = max(self.spent - self.config.stars_per_message, 0.0)
        self.paid_messages = max(self.paid_messages - 1, 0)

    def left(self, *, paid: bool) -> bool:
        """A message went out now; True if it was charged (a paid broadcast)."""
        self._roll_day()
        self._window().append(self.timer.monotonic())
        if not paid:
            return False
        self.release()
        self.spent += self.config.stars_per_message
        self.paid_messages += 1
        return True

    def free_wait(self) -> float:
        """Seconds until a message without paid broadcast keeps the free rate again (the
        paid ones of the last second count too)."""
        window = self._window()
        free = int(self.config.free_per_second)
        if len(window) < free:
            return 0.0
        return max(window[-free] + 1.0 + MARGIN - self.timer.monotonic(), 0.0)

    def _window(self) -> deque[float]:
        now = self.timer.monotonic()
        window = self._last_second
        while window and now - window[0] >= 1.0:
            window.popleft()
        return window

    def _roll_day(self) -> None:
        today = self.clock.now().date()
        if today != self._day:
            self._day, self.spent, self.paid_messages = today, 0.0, 0


class PaidGate:
    """The overall gate of a platform with paid broadcast: the paid pace (this process's
    share) while the budget lasts, else the free gate it wraps (local or shared)."""

    def __init__(self, free: OverallGate, paid: PaidBroadcast, processes: int = 1) -> None:
        self.free, self.paid = free, paid
        self._fast = Pacer(paid.config.paid_per_second * SAFETY / max(processes, 1))

    async def wait(self, timer: Timer, cost: int) -> None:
        if self.paid.active():
            await self._fast.wait(timer, cost)
        else:
            await self.free.wait(timer, cost)

    def pause_until(self, moment: float) -> None:
        self._fast.pause_until(moment)
        self.free.pause_until(moment)


def hours_to_reach(recipients: int, messages_each: int, per_second: float) -> float:
    """Hours of sending for every recipient at ``per_second`` messages a second."""
    return recipients * messages_each / per_second / 3600
