"""Client TLS on every member of a zoopark ensemble: leader, followers (and each role a member takes after an
election) serve their secureClientPort with the same certificates and x509 ids."""

from __future__ import annotations

import pytest
from kazoo.security import make_acl

from certs import Pki
from procs import (
    ZooParkProcess,
    close_clients,
    ensemble_config,
    ensemble_ports,
    free_port,
    member,
    wait_settled,
)
from tlshelp import X509, kazoo

pytestmark = [pytest.mark.xdist_group("ensembles"), pytest.mark.timeout(300)]
SUBJECT = "CN=client,OU=test,O=zoopark"


def test_every_member_serves_tls_with_x509_ids(tmp_path):
    pki = Pki.make(tmp_path)
    common = {**ensemble_config(ensemble_ports((1, 2, 3))), **pki.server_pem(), **X509}
    tls_ports = {i: free_port() for i in (1, 2, 3)}
    members = [member(ZooParkProcess, i, {**common, "secureClientPort": str(tls_ports[i])}) for i in (1, 2, 3)]
    clients = []
    try:
        for p in members:
            p.start(wait=False)
        roles = wait_settled(members)
        follower, leader = roles["follower"][0], roles["leader"][0]
        port_of = {p: tls_ports[members.index(p) + 1] for p in members}
        writer = kazoo(port_of[follower], pki, pki.client, "client")  # a follower forwards the write
        clients.append(writer)
        writer.create("/tls", b"v", acl=[make_acl("auth", "", all=True)])
        assert [(a.id.scheme, a.id.id) for a in writer.get_acls("/tls")[0]] == [("x509", SUBJECT)]
        for p in members:
            c = kazoo(port_of[p], pki, pki.client, "client")
            clients.append(c)
            c.sync("/tls")
            assert c.get("/tls")[0] == b"v", p.kind
        # after the leader goes, the members' new roles open their TLS ports again
        leader.kill()
        rest = [p for p in members if p is not leader]
        wait_settled(rest)
        for p in rest:
            c = kazoo(port_of[p], pki, pki.client, "client", timeout=30)
            clients.append(c)
            assert c.get("/tls")[0] == b"v"
    finally:
        close_clients(clients)
        for p in members:
            p.cleanup()
