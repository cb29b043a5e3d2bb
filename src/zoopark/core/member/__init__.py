"""One ensemble member as a pure state machine: the role loop with the real ServerCore inside.

`MemberMachine.step(input, now_ms) -> [actions]`; every action that writes, replies or accepts carries the
generation of the role that decided it, and the executor refuses an ended generation's actions. The
simulator (zoopark.sim.member) drives it; the asyncio runtime is meant to become a thin executor of it.
"""

from .actions import Loaded
from .machine import MemberMachine, MemberSettings

__all__ = ["Loaded", "MemberMachine", "MemberSettings"]
