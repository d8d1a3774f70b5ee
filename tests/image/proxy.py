#!/usr/bin/env python3
"""A registry front for the image tests, on 127.0.0.1 only.

  proxy.py LISTEN_PORT UPSTREAM_PORT [--bearer USER:PASS|anonymous] [--throttle KB_PER_S]

Forwards GET/HEAD /v2/... to the registry at 127.0.0.1:UPSTREAM_PORT.
--bearer: answers 401 with a `WWW-Authenticate: Bearer realm=...` challenge unless
the request carries the token that GET /token hands out (to USER:PASS by basic
auth, or to anyone with "anonymous").
--log FILE: appends "METHOD PATH" of each forwarded request.
--throttle: sends bodies at about KB_PER_S (to interrupt a transfer in the middle).
"""
import base64
import http.client
import http.server
import json
import sys
import time

LISTEN, UPSTREAM = int(sys.argv[1]), int(sys.argv[2])
BEARER, THROTTLE, LOG = None, 0, None
args = sys.argv[3:]
while args:
    a = args.pop(0)
    if a == "--bearer":
        BEARER = args.pop(0)
    elif a == "--throttle":
        THROTTLE = int(args.pop(0))
    elif a == "--log":
        LOG = args.pop(0)
TOKEN = "hutch-test-token-4711"


class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def reply(self, code, body=b"", headers=()):
        self.send_response(code)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def token(self):
        if BEARER != "anonymous":
            want = "Basic " + base64.b64encode(BEARER.encode()).decode()
            if self.headers.get("Authorization") != want:
                return self.reply(401, b'{"errors":[{"code":"UNAUTHORIZED"}]}')
        self.reply(200, json.dumps({"token": TOKEN, "expires_in": 300}).encode(),
                   [("Content-Type", "application/json")])

    def do_HEAD(self):
        self.do_GET()

    def do_GET(self):
        if self.path.startswith("/token"):
            return self.token()
        if BEARER and self.headers.get("Authorization") != "Bearer " + TOKEN:
            repo = self.path.split("/")[2:-2]
            chal = 'Bearer realm="http://127.0.0.1:%d/token",service="hutch-test",scope="repository:%s:pull"' % (
                LISTEN, "/".join(repo))
            return self.reply(401, b'{"errors":[{"code":"UNAUTHORIZED"}]}', [("WWW-Authenticate", chal)])
        if LOG:
            with open(LOG, "a") as f:
                f.write("%s %s\n" % (self.command, self.path))
        c = http.client.HTTPConnection("127.0.0.1", UPSTREAM, timeout=60)
        hdrs = {k: v for k, v in self.headers.items() if k.lower() in ("accept",)}
        c.request(self.command, self.path, headers=hdrs)
        r = c.getresponse()
        self.send_response(r.status)
        for k, v in r.getheaders():
            if k.lower() in ("content-type", "docker-content-digest", "content-length", "location",
                             "docker-distribution-api-version"):
                self.send_header(k, v)
        self.end_headers()
        if self.command == "HEAD":
            return
        chunk = 16384
        while True:
            b = r.read(chunk)
            if not b:
                break
            self.wfile.write(b)
            if THROTTLE:
                time.sleep(len(b) / (THROTTLE * 1024.0))


http.server.ThreadingHTTPServer.allow_reuse_address = True
http.server.ThreadingHTTPServer(("127.0.0.1", LISTEN), H).serve_forever()
