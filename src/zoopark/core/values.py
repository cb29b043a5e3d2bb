"""`@value`: a frozen slots dataclass whose constructor is cheap.

Events, actions and wire records are frozen slots dataclasses (immutable values, safe to share between a
core, its executor and the simulator). A frozen dataclass's generated `__init__` sets each field through
`object.__setattr__`, which costs about three times a plain attribute store: on the write path, where a
request makes a few dozen of them, that was an eighth of the core's CPU. `value` keeps the class exactly as
`dataclass(frozen=True, slots=True)` makes it (equality, hash, repr, FrozenInstanceError on assignment) and
replaces only `__init__` with one that stores each field through its slot's descriptor.

The modules mypyc compiles (zoopark/_build.py) do not use it: mypyc cannot make a class with an unknown
decorator native, and the `__init__` a dataclass generates stays interpreted there. Their values (the jute
records, the server's inputs and actions) are `@final @dataclass(init=False, unsafe_hash=True, slots=True)`
classes with `Final` fields and a written-out `__init__`; `dataclass_transform` below lets mypy see a
`@value` class as the frozen dataclass it is.
"""

from __future__ import annotations

import dataclasses
from typing import Any, TypeVar, dataclass_transform

T = TypeVar("T")


@dataclass_transform(frozen_default=True)
def value(cls: type[T]) -> type[T]:
    return fast_init(dataclasses.dataclass(frozen=True, slots=True)(cls))


def fast_init(cls: type[T]) -> type[T]:
    """Replace a frozen slots dataclass's `__init__` with descriptor stores; a class that needs more than
    positional-or-keyword fields with plain defaults (factories, __post_init__, init=False) keeps its own."""
    fields = dataclasses.fields(cls)  # type: ignore[arg-type]  # a dataclass by now
    if hasattr(cls, "__post_init__") or any(
            not f.init or f.kw_only or f.default_factory is not dataclasses.MISSING for f in fields):
        return cls
    env: dict[str, Any] = {}
    params, body = [], []
    for f in fields:
        env[f"_set_{f.name}"] = cls.__dict__[f.name].__set__
        if f.default is dataclasses.MISSING:
            params.append(f.name)
        else:
            env[f"_default_{f.name}"] = f.default
            params.append(f"{f.name}=_default_{f.name}")
        body.append(f"    _set_{f.name}(self, {f.name})\n")
    src = f"def __init__(self, {', '.join(params)}):\n" + ("".join(body) or "    pass\n")
    exec(compile(src, f"<value {cls.__name__}>", "exec"), env)  # noqa: S102 - generated from the fields
    init = env["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    cls.__init__ = init  # type: ignore[misc,method-assign]
    return cls
