"""A recording HTTPS reverse proxy, for finding out exactly what a peer tool asks the lab.

    python trace_proxy.py LISTEN_PORT UPSTREAM_PORT STATE_DIR LOG_FILE

Listens on 127.0.0.1:LISTEN_PORT with the lab's own certificate (STATE_DIR/tls/server.pem and
server-key.pem), forwards every request unchanged (Host included) to the lab on
https://127.0.0.1:UPSTREAM_PORT, and appends one JSON line per request to LOG_FILE: method, path with
its query, status, the request body of a POST/PATCH, and the response body when it is an error or a
$batch (each $batch sub-request and sub-response is what the report needs). Used only by
intunecd-backup.sh with TRACE=1, inside its namespaces; the test itself talks to the lab directly.
"""

import http.client
import json
import ssl
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

listen_port, upstream_port, state, log_file = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
lock = threading.Lock()
upstream_tls = ssl.create_default_context(cafile=f"{state}/tls/ca.pem")
HOP = {"connection", "keep-alive", "transfer-encoding", "proxy-connection", "upgrade", "te", "trailer"}


def text(body: bytes):
    try:
        return json.loads(body)
    except ValueError:
        return body.decode("utf-8", "replace")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def forward(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        conn = http.client.HTTPSConnection(
            "127.0.0.1", upstream_port, context=upstream_tls, timeout=120
        )
        # The lab's certificate names 127.0.0.1, so the upstream connection verifies as is; the Host
        # header the client sent goes along unchanged.
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP}
        conn.request(self.command, self.path, body=body, headers=headers)
        resp = conn.getresponse()
        data = resp.read()
        status, resp_headers = resp.status, resp.getheaders()
        self.send_response(status)
        for k, v in resp_headers:
            if k.lower() not in HOP and k.lower() != "content-length":
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        conn.close()
        entry = {"method": self.command, "host": self.headers.get("Host"), "path": self.path, "status": status}
        if body and self.command != "GET" and "/oauth2/" not in self.path:
            entry["request"] = text(body)
        if status >= 400 or "$batch" in self.path:
            entry["response"] = text(data)
        with lock:
            with open(log_file, "a", encoding="utf-8") as f:
                f.write(json.dumps(entry) + "\n")

    do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = forward


server = ThreadingHTTPServer(("127.0.0.1", listen_port), Handler)
tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
tls.load_cert_chain(f"{state}/tls/server.pem", f"{state}/tls/server-key.pem")
server.socket = tls.wrap_socket(server.socket, server_side=True)
print("ready", flush=True)
server.serve_forever()
