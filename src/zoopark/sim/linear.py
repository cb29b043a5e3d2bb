"""A linearizability checker for znode histories (Wing & Gong's search with Lowe's memoisation).

Each znode is checked on its own (linearizability composes over independent objects). An operation has its
invocation and response times (monotonic seconds) and what the client was told; an operation whose outcome
the client never learned (a timeout, a connection loss) is indeterminate: it may have taken effect at any
moment after its invocation, or not at all. The model is a znode as ZooKeeper keeps it: absent, or present
with data and a data version.

    ops: create(data) -> "ok" | "exists"
         set(data, version) -> ("ok", new version) | "badversion" | "nonode"      (version -1: any)
         delete(version) -> "ok" | "badversion" | "nonode"
         get() -> ("ok", data, version) | "nonode"   (only linearizable after a sync, as in ZooKeeper)
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

State = tuple[bool, bytes, int]  # (exists, data, version)
ABSENT: State = (False, b"", 0)


@dataclass(frozen=True, slots=True)
class Op:
    id: int
    client: str
    kind: str  # create | set | delete | get
    args: tuple
    invoked: float
    responded: float = math.inf  # inf: indeterminate
    result: object = None
    # An indeterminate op that took effect did so before this (ZooKeeper's FIFO order per session: an op
    # lost with a connection is ordered before the session's later requests, or refused as SESSIONMOVED).
    deadline: float = math.inf
    # Ops of one session (non-zero) take effect in the order they were sent (ZooKeeper's FIFO client order),
    # across its connections too: one lost with a connection is ordered before the next, or never applies.
    session: int = 0

    @property
    def determinate(self) -> bool:
        return self.responded != math.inf


def step(state: State, op: Op) -> list[tuple[State, object]]:
    """The outcomes `op` can have from `state`: (new state, the result a client would see)."""
    exists, data, version = state
    if op.kind == "create":
        return [((True, op.args[0], 0), "ok")] if not exists else [(state, "exists")]
    if op.kind == "set":
        new_data, expected = op.args
        if not exists:
            return [(state, "nonode")]
        if expected != -1 and expected != version:
            return [(state, "badversion")]
        return [((True, new_data, version + 1), ("ok", version + 1))]
    if op.kind == "delete":
        (expected,) = op.args
        if not exists:
            return [(state, "nonode")]
        if expected != -1 and expected != version:
            return [(state, "badversion")]
        return [(ABSENT, "ok")]
    if op.kind == "get":
        return [(state, ("ok", data, version) if exists else "nonode")]
    raise ValueError(op.kind)


@dataclass
class Verdict:
    ok: bool
    explored: int = 0
    detail: str = ""
    order: list[int] = field(default_factory=list)


def check(history: list[Op], initial: State = ABSENT, budget: int = 2_000_000) -> Verdict:
    """Is there an order of the operations, consistent with real time (an operation that responded before
    another was invoked comes first), in which every determinate result is what the model gives? Indeterminate
    operations may be placed anywhere after their invocation or left out."""
    ops = sorted(history, key=lambda o: o.invoked)
    n = len(ops)
    before = [0] * n  # the earlier ops of the same session: they go first, or (indeterminate) never
    last_of: dict[int, int] = {}
    for i, o in enumerate(ops):
        if o.session:
            j = last_of.get(o.session)
            if j is not None:
                before[i] = before[j] | 1 << j
            last_of[o.session] = i
    det_mask = 0
    for i, o in enumerate(ops):
        if o.determinate:
            det_mask |= 1 << i

    def candidates(done: int, state: State):
        # Only an operation invoked before every pending determinate one has responded can go next.
        horizon = min((ops[i].responded for i in range(n) if not done >> i & 1 and ops[i].determinate),
                      default=math.inf)
        # An indeterminate op cannot follow one invoked after its deadline.
        frontier = max((ops[i].invoked for i in range(n) if done >> i & 1), default=-math.inf)
        later = []
        for i in range(n):
            if done >> i & 1:
                continue
            op = ops[i]
            if op.invoked > horizon:
                break
            if before[i] & det_mask & ~done:
                continue  # an earlier determinate op of its session is not placed yet
            for new_state, result in step(state, op):
                if op.determinate:
                    if result == op.result:
                        yield i, new_state
                elif new_state != state and op.deadline >= frontier:
                    # An indeterminate op that would change nothing need never be placed: leaving it out
                    # is the same. The others are tried after every determinate one.
                    later.append((i, new_state))
        yield from later

    if det_mask == 0:
        return Verdict(True)
    indet = [i for i, o in enumerate(ops) if not o.determinate and o.deadline != math.inf]
    seen: set[tuple[int, State]] = set()
    stack = [(0, initial, candidates(0, initial))]
    path: list[int] = []
    explored = 0
    while stack:  # depth-first, iteratively (histories are longer than Python's recursion limit)
        done, state, it = stack[-1]
        nxt = next(it, None)
        if nxt is None:
            stack.pop()
            if path:
                path.pop()
            continue
        i, new_state = nxt
        explored += 1
        if explored > budget:
            raise RuntimeError(f"linearizability search exceeded {budget} states")
        new_done = _expire(done | 1 << i | before[i], ops, indet)
        if new_done & det_mask == det_mask:
            return Verdict(True, explored, "", [*path, ops[i].id])
        if (new_done, new_state) in seen:
            continue
        seen.add((new_done, new_state))
        path.append(ops[i].id)
        stack.append((new_done, new_state, candidates(new_done, new_state)))
    return Verdict(False, explored, _describe(ops))


def _expire(done: int, ops: list[Op], indet: list[int]) -> int:
    """Count as done (left out) every indeterminate op whose deadline has passed: one invoked after it is
    placed, so it can never be. States that differ only in such ops are then one state to the memo."""
    frontier = max(ops[i].invoked for i in range(len(ops)) if done >> i & 1)
    for i in indet:
        if not done >> i & 1 and ops[i].deadline < frontier:
            done |= 1 << i
    return done


def _describe(ops: list[Op]) -> str:
    lines = []
    for o in ops:
        end = "?" if not o.determinate else f"{o.responded:.4f}"
        lines.append(f"  {o.client} {o.kind}{o.args} [{o.invoked:.4f} .. {end}] -> {o.result!r}")
    return "no linearization of:\n" + "\n".join(lines)


def check_by_key(history: list[tuple[str, Op]], budget: int = 2_000_000) -> dict[str, Verdict]:
    """Check each znode's operations separately. `history` holds (path, op)."""
    by: dict[str, list[Op]] = {}
    for path, op in history:
        by.setdefault(path, []).append(op)
    return {path: check(ops, budget=budget) for path, ops in by.items()}
