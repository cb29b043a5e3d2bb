"""The request pipeline as pure stages, composed by ServerCore."""

from .core import ServerCore
from .settings import CoreSettings

__all__ = ["CoreSettings", "ServerCore"]
