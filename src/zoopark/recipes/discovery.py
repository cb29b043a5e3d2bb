"""Service discovery in Apache Curator's ServiceDiscovery layout, so Java services using Curator and Python
services find each other: an instance is an ephemeral znode `<base>/<name>/<id>` holding Curator's
ServiceInstance JSON (name, id, address, port, sslPort, payload with its Java "@class", registrationTimeUTC,
serviceType, uriSpec; enabled only when false, as later Curators read it).

    discovery = ServiceDiscovery(client, "/services")
    me = ServiceInstance.build("orders", address="10.0.0.5", port=8080, payload={"weight": 3})
    discovery.register(me)                      # registered again by itself after a session loss
    cache = discovery.cache("orders").start()   # kept current by a recursive watch
    cache.instances()                           # [ServiceInstance, ...]
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from kazoo.client import KazooClient
from kazoo.exceptions import NodeExistsError, NoNodeError
from kazoo.protocol.states import KazooState

from .watches import PersistentWatches

log = logging.getLogger("zoopark.recipes.discovery")
# Curator serialises a payload with its Java class (Jackson's @class); maps from Python go as a LinkedHashMap.
_MAP_CLASS = "java.util.LinkedHashMap"


@dataclass
class ServiceInstance:
    name: str
    id: str
    address: str | None = None
    port: int | None = None
    ssl_port: int | None = None
    payload: Any = None
    registration_time_utc: int = 0
    service_type: str = "DYNAMIC"  # DYNAMIC (ephemeral), STATIC, PERMANENT, DYNAMIC_SEQUENTIAL
    uri_spec: Any = None
    enabled: bool = True
    extra: dict = field(default_factory=dict)  # fields a newer Curator may add: kept as they came

    @classmethod
    def build(cls, name: str, address: str | None = None, port: int | None = None, payload: Any = None,
              id: str | None = None, ssl_port: int | None = None) -> ServiceInstance:
        return cls(name, id or str(uuid.uuid4()), address, port, ssl_port, payload, int(time.time() * 1000))

    def to_json(self) -> bytes:
        payload = self.payload
        if isinstance(payload, dict) and "@class" not in payload:
            payload = {"@class": _MAP_CLASS, **payload}
        doc = {"name": self.name, "id": self.id, "address": self.address, "port": self.port,
               "sslPort": self.ssl_port, "payload": payload, "registrationTimeUTC": self.registration_time_utc,
               "serviceType": self.service_type, "uriSpec": self.uri_spec, **self.extra}
        if not self.enabled:  # Curator 5.4 (Debian's) has no such field; later ones read a missing one as true
            doc["enabled"] = False
        return json.dumps(doc, separators=(",", ":")).encode()

    @classmethod
    def from_json(cls, data: bytes) -> ServiceInstance:
        doc = json.loads(data)
        payload = doc.pop("payload", None)
        if isinstance(payload, dict):
            payload = {k: v for k, v in payload.items() if k != "@class"}
        known = {"name", "id", "address", "port", "sslPort", "registrationTimeUTC", "serviceType", "uriSpec",
                 "enabled"}
        return cls(doc.get("name", ""), doc.get("id", ""), doc.get("address"), doc.get("port"),
                   doc.get("sslPort"), payload, doc.get("registrationTimeUTC", 0), doc.get("serviceType", "DYNAMIC"),
                   doc.get("uriSpec"), doc.get("enabled", True), {k: v for k, v in doc.items() if k not in known})


class ServiceDiscovery:
    def __init__(self, client: KazooClient, base_path: str = "/services") -> None:
        self.client = client
        self.base = base_path.rstrip("/")
        self._mine: dict[str, ServiceInstance] = {}
        self._lock = threading.Lock()
        self._lost = False
        self.watches = PersistentWatches(client)
        client.add_listener(self._on_state)

    def path(self, name: str, id: str | None = None) -> str:
        return f"{self.base}/{name}" + (f"/{id}" if id is not None else "")

    # ---- registration ------------------------------------------------------------------------

    def register(self, instance: ServiceInstance) -> None:
        with self._lock:
            self._mine[instance.id] = instance
        self._create(instance)

    def _create(self, instance: ServiceInstance) -> None:
        path = self.path(instance.name, instance.id)
        ephemeral = instance.service_type.startswith("DYNAMIC")
        try:
            self.client.create(path, instance.to_json(), ephemeral=ephemeral, makepath=True)
        except NodeExistsError:  # ours from before (the same session) or a permanent one: bring it up to date
            self.client.set(path, instance.to_json())

    def update(self, instance: ServiceInstance) -> None:
        with self._lock:
            self._mine[instance.id] = instance
        self.client.set(self.path(instance.name, instance.id), instance.to_json())

    def unregister(self, instance: ServiceInstance) -> None:
        with self._lock:
            self._mine.pop(instance.id, None)
        try:
            self.client.delete(self.path(instance.name, instance.id))
        except NoNodeError:
            pass

    def _on_state(self, state: str) -> None:
        # After a session loss our ephemerals are gone: register again on the next session (Curator's
        # ServiceDiscoveryImpl does the same on RECONNECTED).
        if state == KazooState.LOST:
            self._lost = True
        elif state == KazooState.CONNECTED and self._lost:
            self._lost = False
            self.client.handler.spawn(self._reregister)

    def _reregister(self) -> None:
        with self._lock:
            mine = list(self._mine.values())
        for instance in mine:
            try:
                self._create(instance)
                log.info("registered %s/%s again after a session loss", instance.name, instance.id)
            except Exception as e:  # noqa: BLE001 - the next reconnect tries again
                log.warning("could not register %s/%s again: %s", instance.name, instance.id, e)
                self._lost = True

    # ---- queries -----------------------------------------------------------------------------

    def query_for_names(self) -> list[str]:
        try:
            return sorted(self.client.get_children(self.base))
        except NoNodeError:
            return []

    def query_for_instances(self, name: str) -> list[ServiceInstance]:
        try:
            ids = self.client.get_children(self.path(name))
        except NoNodeError:
            return []
        out = []
        for i in sorted(ids):
            inst = self.query_for_instance(name, i)
            if inst is not None:
                out.append(inst)
        return out

    def query_for_instance(self, name: str, id: str) -> ServiceInstance | None:
        try:
            data, _ = self.client.get(self.path(name, id))
        except NoNodeError:
            return None
        try:
            return ServiceInstance.from_json(data)
        except (ValueError, TypeError) as e:
            log.warning("%s: not a service instance: %s", self.path(name, id), e)
            return None

    def cache(self, name: str) -> ServiceCache:
        return ServiceCache(self, name)


class ServiceCache:
    """The instances of one service, kept current by a recursive watch on `<base>/<name>` (re-read whole
    after a reconnect). `listeners` are called with the new list on every change."""

    def __init__(self, discovery: ServiceDiscovery, name: str) -> None:
        self.discovery = discovery
        self.name = name
        self._instances: list[ServiceInstance] = []
        self._cond = threading.Condition()
        self.listeners: list = []

    def start(self) -> ServiceCache:
        client = self.discovery.client
        client.ensure_path(self.discovery.path(self.name))
        self.discovery.watches.add(self.discovery.path(self.name), lambda event: self.refresh(), recursive=True)
        self.discovery.watches.on_reconnected(self.refresh)
        self.refresh()
        return self

    def refresh(self) -> None:
        instances = self.discovery.query_for_instances(self.name)
        with self._cond:
            self._instances = instances
            self._cond.notify_all()
        for fn in list(self.listeners):
            fn(instances)

    def instances(self) -> list[ServiceInstance]:
        with self._cond:
            return list(self._instances)

    def wait_for(self, predicate, timeout: float = 30.0) -> list[ServiceInstance]:
        """Block until `predicate(instances)` holds (or the timeout); returns the instances then."""
        with self._cond:
            self._cond.wait_for(lambda: predicate(self._instances), timeout)
            return list(self._instances)

    def stop(self) -> None:
        self.discovery.watches.remove(self.discovery.path(self.name))
