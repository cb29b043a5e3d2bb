"""One instance of the "echo" service: an HTTP server on a free loopback port that registers itself in
zoopark (Curator's discovery layout) and answers GET /hello with its id. Runs until killed.

    python examples/fleet/service.py --zk 127.0.0.1:2181 --id echo-1 [--weight 2]
"""

from __future__ import annotations

import argparse
import http.server
import threading

from kazoo.client import KazooClient

from zoopark.recipes.discovery import ServiceDiscovery, ServiceInstance


def serve(zk: str, ident: str, weight: int) -> None:
    class Hello(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            body = ident.encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hello)
    client = KazooClient(zk, timeout=4.0, connection_retry={"max_tries": -1, "delay": 0.1, "max_delay": 1.0})
    client.start(timeout=30)
    ServiceDiscovery(client, "/services").register(
        ServiceInstance.build("echo", "127.0.0.1", httpd.server_address[1], {"weight": weight}, id=ident))
    print(f"{ident} serving on port {httpd.server_address[1]}", flush=True)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    threading.Event().wait()


if __name__ == "__main__":
    import logging

    logging.getLogger("kazoo").setLevel(logging.ERROR)  # its reconnect chatter while servers come and go
    ap = argparse.ArgumentParser()
    ap.add_argument("--zk", default="127.0.0.1:2181")
    ap.add_argument("--id", required=True)
    ap.add_argument("--weight", type=int, default=1)
    a = ap.parse_args()
    serve(a.zk, a.id, a.weight)
