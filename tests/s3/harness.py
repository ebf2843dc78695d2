#!/usr/bin/env python3
"""The S3 tests' server: moto's S3 server behind a small counting, fault-injecting HTTP proxy.

    harness.py MOTO_SERVER

Starts MOTO_SERVER on 127.0.0.1 on a free port, and the proxy on another free port, prints
`PROXY_PORT` on one line of stdout, and runs until its standard input closes (the test process
holding the pipe exited), then stops moto. A second line, `moto PORT`, gives moto's own port
(for benchmarks without the proxy). Python standard library only.

The client (trailsight) talks to the proxy as to S3. The proxy forwards every request to moto and
logs it, because moto keeps no request log a test can trust. Paths under `/__harness/` are the
test's controls (never forwarded):

- `POST /__harness/bucket/NAME`: create bucket NAME.
- `POST /__harness/upload/NAME?dir=DIR&prefix=P`: upload every file under DIR to bucket NAME as
  key P + relative path.
- `POST /__harness/faults` with a JSON object {PATH: {"mode": M, "times": N}}: the next N
  requests whose path is PATH (`/bucket/key`; a PATH ending in `*` matches the paths it starts)
  get fault M instead of moto's answer: `503` (SlowDown), `500` (InternalError), `403`
  (AccessDenied), `301` (PermanentRedirect from eu-west-3), `drop` (connection closed before any
  response), `cut` (headers and half the body, then closed). N = -1: always.
- `GET /__harness/object/NAME/KEY`: the object's bytes (not logged).
- `GET /__harness/log?bucket=NAME`: the requests so far for NAME, as JSON lines
  {"method", "path", "query", "outcome"} where outcome is the HTTP status moto sent (and the
  proxy passed on whole) or the fault.
"""

import http.client
import http.server
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.parse

HOP_BY_HOP = {
    "connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailers",
    "transfer-encoding", "upgrade",
}

FAULT_BODIES = {
    "503": (503, "SlowDown", "Please reduce your request rate."),
    "500": (500, "InternalError", "We encountered an internal error. Please try again."),
    "403": (403, "AccessDenied", "Access Denied"),
    "301": (301, "PermanentRedirect", "The bucket you are attempting to access must be addressed using the specified endpoint."),
}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class State:
    def __init__(self, moto_port):
        self.moto_port = moto_port
        self.lock = threading.Lock()
        self.faults = {}
        self.log = []

    def take_fault(self, path):
        with self.lock:
            for pattern, fault in self.faults.items():
                match = path.startswith(pattern[:-1]) if pattern.endswith("*") else path == pattern
                if match and fault["times"] != 0:
                    if fault["times"] > 0:
                        fault["times"] -= 1
                    return fault["mode"]
        return None

    def record(self, method, path, query, outcome):
        with self.lock:
            self.log.append({"method": method, "path": path, "query": query, "outcome": outcome})


def moto_request(state, method, path, body=b"", headers=None):
    conn = http.client.HTTPConnection("127.0.0.1", state.moto_port, timeout=60)
    conn.request(method, path, body=body, headers=headers or {})
    response = conn.getresponse()
    data = response.read()
    conn.close()
    return response.status, data


def make_handler(state):
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def reply(self, status, body, content_type="application/json", extra=()):
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            for name, value in extra:
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        def control(self, url, body):
            parts = url.path.split("/")[2:]
            query = urllib.parse.parse_qs(url.query)
            if parts[0] == "bucket":
                status, data = moto_request(state, "PUT", "/" + parts[1])
                return self.reply(status, data, "application/xml")
            if parts[0] == "upload":
                bucket, root = parts[1], query["dir"][0]
                prefix = query.get("prefix", [""])[0]
                count = 0
                for dirpath, _, files in os.walk(root):
                    for name in sorted(files):
                        full = os.path.join(dirpath, name)
                        key = prefix + os.path.relpath(full, root).replace(os.sep, "/")
                        with open(full, "rb") as f:
                            data = f.read()
                        status, reply = moto_request(
                            state, "PUT", "/%s/%s" % (bucket, urllib.parse.quote(key)), data,
                            {"Content-Length": str(len(data))})
                        if status != 200:
                            return self.reply(500, reply, "application/xml")
                        count += 1
                return self.reply(200, json.dumps({"uploaded": count}).encode())
            if parts[0] == "object":
                # Signed-looking (moto checks no signatures but refuses anonymous GETs).
                auth = ("AWS4-HMAC-SHA256 Credential=testing/20240101/us-east-1/s3/aws4_request, "
                        "SignedHeaders=host, Signature=0")
                status, data = moto_request(state, "GET", "/" + urllib.parse.quote("/".join(parts[1:])),
                                            headers={"Authorization": auth})
                return self.reply(status, data, "application/octet-stream")
            if parts[0] == "faults":
                with state.lock:
                    for path, fault in json.loads(body or b"{}").items():
                        state.faults[path] = {"mode": str(fault["mode"]), "times": int(fault["times"])}
                return self.reply(200, b"{}")
            if parts[0] == "log":
                bucket = query.get("bucket", [""])[0]
                with state.lock:
                    lines = [json.dumps(e) for e in state.log
                             if e["path"] == "/" + bucket or e["path"].startswith("/" + bucket + "/")]
                return self.reply(200, ("\n".join(lines) + "\n").encode(), "application/x-ndjson")
            return self.reply(404, b"{}")

        def forward(self):
            url = urllib.parse.urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            if url.path.startswith("/__harness/"):
                return self.control(url, body)
            path = urllib.parse.unquote(url.path)
            fault = state.take_fault(path)
            if fault == "drop":
                state.record(self.command, path, url.query, "drop")
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            if fault in FAULT_BODIES:
                status, code, message = FAULT_BODIES[fault]
                xml = ("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>%s</Code>"
                       "<Message>%s</Message></Error>" % (code, message)).encode()
                extra = [("x-amz-bucket-region", "eu-west-3")] if fault == "301" else []
                state.record(self.command, path, url.query, fault)
                return self.reply(status, xml, "application/xml", extra)
            conn = http.client.HTTPConnection("127.0.0.1", state.moto_port, timeout=60)
            headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
            conn.request(self.command, self.path, body=body, headers=headers)
            response = conn.getresponse()
            data = response.read()
            conn.close()
            self.send_response(response.status)
            for name, value in response.getheaders():
                if name.lower() not in HOP_BY_HOP and name.lower() != "content-length":
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if fault == "cut" and len(data) > 1:
                self.wfile.write(data[: len(data) // 2])
                self.wfile.flush()
                state.record(self.command, path, url.query, "cut")
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            if self.command != "HEAD":
                self.wfile.write(data)
            state.record(self.command, path, url.query, response.status)

        do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = forward

    return Handler


class QuietServer(http.server.ThreadingHTTPServer):
    """A client that goes away mid-request (a test's process exiting) is not an error here."""

    def handle_error(self, request, client_address):
        if not isinstance(sys.exc_info()[1], (ConnectionError, BrokenPipeError, TimeoutError)):
            super().handle_error(request, client_address)


def main():
    moto = sys.argv[1]
    moto_port = free_port()
    server = subprocess.Popen([moto, "-H", "127.0.0.1", "-p", str(moto_port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        state = State(moto_port)
        for _ in range(300):
            try:
                moto_request(state, "GET", "/")
                break
            except OSError:
                time.sleep(0.1)
        else:
            sys.exit("moto_server did not start")
        proxy = QuietServer(("127.0.0.1", 0), make_handler(state))
        proxy.daemon_threads = True
        threading.Thread(target=proxy.serve_forever, daemon=True).start()
        print(proxy.server_address[1], flush=True)
        print("moto", moto_port, flush=True)
        sys.stdin.read()
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    main()
