"""Load balancing: the day in a Review interval's fuzz range a card is given.

As Anki's load balancer does, the day is a weighted draw over the fuzz range,
so the learner's daily load evens out and their easy days stay light. Here the
draw is not random: the fuzz factor fixed by the review (``srs.fuzz_factor``)
stands in for it, so the same review with the same loads always lands on the
same day, and the interval on a button is the one the rating gives.

The function is pure: the loads come from the caller (``srs`` asks the
learner's schedule once per reveal or rating).
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["BALANCE_HORIZON_DAYS", "choose_day", "day_weights"]

#: Loads are counted this many days ahead at most (Anki balances up to 90): further
#: ahead the load is thin and will change. A day beyond counts as the mean of the
#: days counted; easy days count at any distance.
BALANCE_HORIZON_DAYS = 90


def day_weights(low: int, loads: Sequence[float], shares: Sequence[float]) -> list[float]:
    """Each candidate day's weight in the draw; day ``i`` is the interval ``low + i`` days.

    ``weight = (share / (load + 1))² / interval``: a day with fewer cards due
    weighs more (squared, so the lightest days win most draws), an easy day at
    50 % weighs as a normal day with about twice its load, and a shorter
    interval weighs a little more (without it, balancing drifts cards later).
    A day at 0 % weighs nothing, unless every day in the range is at 0 %: then
    they all count as normal days (a card must get a day in its range).

    Args:
        low: the shortest interval of the range, in days (at least 1).
        loads: cards already due on each candidate day (missing ones count 0).
        shares: each candidate day's share of a normal day's load, in [0, 1]
            (missing ones count 1).
    """
    n = max(len(loads), len(shares))
    share = [shares[i] if i < len(shares) else 1.0 for i in range(n)]
    if not any(s > 0 for s in share):
        share = [1.0] * n
    return [
        (share[i] / ((loads[i] if i < len(loads) else 0) + 1)) ** 2 / (low + i) for i in range(n)
    ]


def choose_day(
    low: int,
    high: int,
    factor: float,
    loads: Sequence[float] = (),
    shares: Sequence[float] = (),
) -> int:
    """The interval in days for a Review card whose fuzz range is ``[low, high]``.

    Bounds: the result is always in ``[low, high]``, whatever the loads and
    shares (a range of one day gives that day). Within it, day ``low + i`` is
    drawn with the probability ``w[i] / sum(w)`` over :func:`day_weights`,
    ``factor`` taking the place of the random number; with no loads and no easy
    days the draw leans slightly to the shorter intervals (the ``1 / interval``
    term).

    Args:
        low: the range's shortest interval, in days (at least 1).
        high: its longest (``>= low``).
        factor: in [0, 1): the review's fixed stand-in for ``random()``.
        loads: cards due on each day of the range, ``low`` first.
        shares: each day's easy-day share, ``low`` first (1 a normal day, 0 a day off).
    """
    if high <= low:
        return low
    n = high - low + 1
    weights = day_weights(low, [*loads[:n], *[0.0] * (n - len(loads))], shares[:n])
    target = min(max(factor, 0.0), 1.0) * sum(weights)
    cumulative = 0.0
    chosen = low
    for i, weight in enumerate(weights):
        if weight <= 0:
            continue
        chosen = low + i  # the last day with any weight, should rounding leave target unmet
        cumulative += weight
        if cumulative > target:
            break
    return chosen
