"""Which notes to dispense. Greedy fails with limited counts (60 from {50×1, 20×3} → greedy takes the 50 and
is stuck; 20+20+20 works), so this is a bounded-change DP over the denominations present."""

from __future__ import annotations

from math import gcd


def notes_for_amount(*, amount: int, available: dict[int, int], max_notes: int) -> dict[int, int] | None:
    """The fewest notes (ties: larger notes) adding up to `amount` within the counts; None if impossible."""
    stock = {value: count for value, count in available.items() if value > 0 and count > 0}
    if amount <= 0 or not stock:
        return None
    step = 0
    for value in stock:
        step = gcd(step, value)
    if amount % step:
        return None
    target = amount // step
    if target > max_notes * max(stock) // step:
        return None  # more than the dispenser can hand out at once; also bounds the table below
    infinity = max_notes + 1
    # best[v] = fewest notes for v·step using the denominations processed so far; choice remembers the split.
    best = [0] + [infinity] * target
    choices: list[tuple[int, list[int]]] = []
    for value in sorted(stock, reverse=True):
        unit, count = value // step, stock[value]
        new_best, taken = best[:], [0] * (target + 1)
        for total in range(target + 1):
            for used in range(1, min(count, total // unit) + 1):
                candidate = best[total - used * unit] + used
                if candidate < new_best[total]:
                    new_best[total], taken[total] = candidate, used
        best = new_best
        choices.append((value, taken))
    if best[target] > max_notes:
        return None
    notes: dict[int, int] = {}
    remaining = target
    for value, taken in reversed(choices):
        if taken[remaining]:
            notes[value] = taken[remaining]
            remaining -= taken[remaining] * (value // step)
    return dict(sorted(notes.items(), reverse=True)) if remaining == 0 else None
