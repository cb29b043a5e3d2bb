"""The quorum port's connections for the member machine's executor: the leader's listener and its learners'
links, or a learner's link to its leader. Each belongs to one generation of the machine (one role): what
arrives on a link of an ended role is dropped, and a link is closed when its role ends.

Inputs go to the machine as `PacketIn(sid, packet)` and `PeerLost(sid)`; `send` carries `SendPeer`. A
learner's link is dialled on the first packet a generation sends its leader (the machine dials again as a
new generation); a dial that fails, or a link closed before the leader said a word, is reported after a
pause (ZabPeer dials again at once within initLimit, which against a refused port would spin)."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from ..core.jute.io import encode_string
from ..core.jute.quorum import (
    SNAP_SIGNATURE,
    LearnerInfo,
    PacketType,
    QuorumPacket,
    QuorumStreamDecoder,
    QuorumWireError,
)
from ..core.member.actions import PacketIn, PeerLost, RoleFailed
from ..net import peertls, quorumsasl
from ..net.quorum import LeaderLink, connect_leader

if TYPE_CHECKING:
    from .member import Member

log = logging.getLogger("zoopark.member")
_RETRY_S = 0.1  # ZooKeeper's leaderConnectDelayDuringRetryMs


def encode(packet) -> bytes:
    if isinstance(packet, tuple):  # a SNAP's database, then the signature
        return packet[1] + encode_string(SNAP_SIGNATURE)
    return packet.encode()


class _LearnerLink(asyncio.Protocol):
    """A learner's connection to our quorum port; named by its FOLLOWERINFO / OBSERVERINFO."""

    def __init__(self, links: QuorumLinks, gen: int) -> None:
        self.links = links
        self.gen = gen
        self.sid: int | None = None
        self.decoder = QuorumStreamDecoder()
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport) -> None:  # type: ignore[override]
        self.transport = transport
        if self.gen != self.links.listener_gen:
            transport.close()  # accepted as the role ended

    def data_received(self, data: bytes) -> None:
        try:
            items = self.decoder.feed(data)
        except QuorumWireError as e:
            log.warning("learner %s: %s; closing", self.sid, e)
            self.close()
            return
        for p in items:
            if isinstance(p, QuorumPacket):
                self.links.from_learner(self, p)

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()

    def connection_lost(self, exc) -> None:  # type: ignore[override]
        self.links.learner_lost(self)


class QuorumLinks:
    def __init__(self, member: Member) -> None:
        self.m = member
        # leading
        self.listener: asyncio.base_events.Server | None = None
        self.listener_gen: int | None = None
        self.learners: dict[int, _LearnerLink] = {}
        # learning
        self.leader_gen: int | None = None
        self.leader_sid: int | None = None
        self.leader_link: LeaderLink | None = None
        self.heard = False  # the leader has said something on the current link
        self.pending: list[bytes] = []  # packets sent before the link was up
        self._last_packet: object = None  # the packet last encoded, and its bytes
        self._last_data = b""

    # ---- the role's links, kept in step with the machine after each of its steps -------------------

    def reconcile(self, mode: str, gen: int) -> None:
        if mode == "LEADING":
            if self.listener_gen != gen:
                self._close_listener()
                self.listener_gen = gen
                asyncio.get_running_loop().create_task(self._listen(gen))
        elif self.listener_gen is not None:
            self._close_listener()
        if self.leader_gen is not None and (self.leader_gen != gen or mode not in ("FOLLOWING", "OBSERVING")):
            self._close_leader_link()

    def close(self) -> None:
        self._close_listener()
        self._close_leader_link()

    def send(self, sid: int, packet, gen: int, mode: str) -> None:
        if packet is self._last_packet:  # a leader sends each PROPOSAL and COMMIT to every follower
            data = self._last_data
        else:
            data = encode(packet)
            if isinstance(packet, QuorumPacket):  # not a SNAP's database: nothing big is kept
                self._last_packet, self._last_data = packet, data
        if mode == "LEADING":
            link = self.learners.get(sid)
            if link is not None and link.transport is not None and self.listener_gen == gen:
                self.m.batch().write(link.transport, data)
            return
        if self.leader_gen != gen or self.leader_sid != sid:
            self._close_leader_link()
            self.leader_gen, self.leader_sid, self.heard = gen, sid, False
            asyncio.get_running_loop().create_task(self._dial(gen, sid))
        link = self.leader_link
        if link is None or link.transport is None:
            self.pending.append(data)
        elif not link.closed:
            self.m.batch().write(link.transport, data)

    def drop(self, sid: int, reason: str) -> None:
        log.warning("%s", reason)
        link = self.learners.get(sid)
        if link is not None:
            link.close()
        elif sid == self.leader_sid and self.leader_link is not None:
            self.leader_link.close(reason)

    # ---- leading -----------------------------------------------------------------------------------

    async def _listen(self, gen: int) -> None:
        me = self.m.servers[self.m.my_id]
        try:
            learners = quorumsasl.accepting(lambda: _LearnerLink(self, gen), self.m.quorum_sasl, "quorum port")
            tls = None if self.m.quorum_tls is None else (lambda: self.m.quorum_tls)  # per connection: reloadable
            server = await peertls.listen(asyncio.get_running_loop(), learners, me.host, me.quorum_port, tls,
                                          "quorum port")
        except OSError as e:
            log.error("cannot listen for learners on %s:%d: %s", me.host, me.quorum_port, e)
            if self.listener_gen == gen:
                self.listener_gen = None
                self.m.feed(RoleFailed(gen, f"the quorum port {me.host}:{me.quorum_port} cannot be bound: {e}"))
            return
        if self.listener_gen != gen:  # the role ended while the socket was opening
            server.close()
            return
        self.listener = server
        log.info("LEADING: listening for learners on %s:%d", me.host, me.quorum_port)

    def _close_listener(self) -> None:
        if self.listener is not None:
            self.listener.close()
        self.listener, self.listener_gen = None, None
        links, self.learners = list(self.learners.values()), {}
        for link in links:
            link.sid = None
            link.close()

    def from_learner(self, link: _LearnerLink, p: QuorumPacket) -> None:
        if link.gen != self.listener_gen:
            link.close()
            return
        if link.sid is None:
            if p.type not in (PacketType.FOLLOWERINFO, PacketType.OBSERVERINFO):
                link.close()
                return
            try:
                link.sid = LearnerInfo.decode(p.data or b"").server_id
            except Exception:  # noqa: BLE001 - not a learner: drop it
                link.close()
                return
            old = self.learners.get(link.sid)
            if old is not None and old is not link:
                old.sid = None
                old.close()
            self.learners[link.sid] = link
        self.m.feed(PacketIn(link.sid, p))

    def learner_lost(self, link: _LearnerLink) -> None:
        sid = link.sid
        if sid is not None and self.learners.get(sid) is link:
            del self.learners[sid]
            self.m.feed(PeerLost(sid))

    # ---- learning ----------------------------------------------------------------------------------

    async def _dial(self, gen: int, sid: int) -> None:
        spec = self.m.servers.get(sid)
        me = self.m.servers[self.m.my_id]
        if spec is None:
            await asyncio.sleep(_RETRY_S)
            self._lost_leader(gen, sid, f"leader {sid} is not in the configuration")
            return
        holder: list[LeaderLink] = []
        try:
            link = await connect_leader(spec.host, spec.quorum_port, me.host,
                                        lambda item: self._from_leader(holder, gen, sid, item),
                                        lambda reason: self._leader_closed(holder, gen, sid, reason),
                                        attempts=1, tls=self.m.quorum_tls, sasl=self.m.quorum_sasl)
        except ConnectionError as e:
            await asyncio.sleep(_RETRY_S)
            self._lost_leader(gen, sid, str(e))
            return
        holder.append(link)
        if self.leader_gen != gen or self.leader_sid != sid:
            link.close("the role ended while dialling")
            return
        self.leader_link = link
        log.info("%s leader %d at %s:%d", "observing" if self.m.observer else "following", sid, spec.host,
                 spec.quorum_port)
        pending, self.pending = self.pending, []
        for data in pending:
            self.m.batch().write(link.transport, data)

    def _from_leader(self, holder: list, gen: int, sid: int, item) -> None:
        if not holder or self.leader_link is not holder[0] or self.leader_gen != gen:
            return
        self.heard = True
        self.m.feed(PacketIn(sid, item))

    def _leader_closed(self, holder: list, gen: int, sid: int, reason: str) -> None:
        if not holder or self.leader_link is not holder[0] or self.leader_gen != gen:
            return
        log.warning("stopped following leader %d: %s", sid, reason)
        self.leader_link = None
        if self.heard:
            self._lost_leader(gen, sid, reason)
        else:  # closed before the leader said a word: it was not leading yet behind what accepted us
            asyncio.get_running_loop().call_later(_RETRY_S, self._lost_leader, gen, sid, reason)

    def _lost_leader(self, gen: int, sid: int, reason: str) -> None:
        if self.leader_gen == gen and self.leader_sid == sid:
            log.debug("lost leader %d: %s", sid, reason)
            self.m.feed(PeerLost(sid))

    def _close_leader_link(self) -> None:
        link = self.leader_link
        self.leader_link, self.leader_gen, self.leader_sid, self.pending = None, None, None, []
        if link is not None:
            link.close("leaving the leader")
