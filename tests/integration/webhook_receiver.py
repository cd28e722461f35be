#!/usr/bin/env python3
"""A small webhook receiver for the tests: it records every POST (headers and body), checks
the gcmsg signature, and can be told to be slow, to hang, or to fail.

As a module:

    from webhook_receiver import WebhookReceiver, verify_signature
    with WebhookReceiver(secret="s3cret") as rx:          # 127.0.0.1, a free port
        url = rx.url("/hook")                             # http://127.0.0.1:PORT/hook
        ... run gcmsg with GCMSG_WEBHOOK_URL=url GCMSG_WEBHOOK_SECRET=s3cret ...
        rx.wait_for(2, timeout=10)
        assert all(r["signature_ok"] for r in rx.requests)
        rx.set(status=500)            # answer 500 from now on
        rx.set(delay=3.0)             # answer after 3 s
        rx.set(hang=True)             # accept, read, never answer (until stopped)
        rx.set(fail_first=2)          # answer 500 to the next 2 POSTs, then the normal status

As a program (runs until SIGTERM or SIGINT):

    python3 webhook_receiver.py --port-file F --secret S --log F
        [--host 127.0.0.1] [--port 0] [--status N] [--delay S] [--hang] [--fail-first N]
        [--accept-bad-signatures]

It writes its port to the port file (atomically, once it listens) and appends one JSON line
per POST to the log (flushed at once). While it runs it can be steered over HTTP (paths under
/_ are never recorded): POST /_control with a JSON object of the keys of set() above, and
GET /_requests for the recorded POSTs as a JSON array.

A recorded POST is a dict: time (unix seconds, float), method, path, headers (lower-case
names), body (text), event_id, timestamp, signature (the header values, or None),
signature_ok (True/False; None without a secret), skew_s (receive time minus timestamp) and
status (what was answered; None when it hung).

A POST whose signature does not verify is answered 401 unless --accept-bad-signatures (or
accept_bad_signatures=True). The signature: X-Gcmsg-Signature-256: sha256=<base64 of
HMAC-SHA256(secret, "<X-Gcmsg-Timestamp>.<body>")>.
"""
import argparse
import base64
import hashlib
import hmac
import http.server
import json
import os
import signal
import sys
import threading
import time

BODY_CAP = 4 * 1024 * 1024


def signature(secret, timestamp, body):
    """The header value gcmsg sends: 'sha256=' + base64(HMAC-SHA256(secret, '<ts>.<body>'))."""
    if isinstance(secret, str):
        secret = secret.encode()
    if isinstance(body, str):
        body = body.encode()
    mac = hmac.new(secret, str(timestamp).encode() + b"." + body, hashlib.sha256).digest()
    return "sha256=" + base64.b64encode(mac).decode()


def verify_signature(secret, timestamp, body, header):
    """True when header is the signature of body at timestamp (compared in constant time)."""
    if header is None or timestamp is None:
        return False
    return hmac.compare_digest(signature(secret, timestamp, body), header)


class WebhookReceiver:
    def __init__(self, secret=None, host="127.0.0.1", port=0, status=200, delay=0.0, hang=False,
                 fail_first=0, log_path=None, accept_bad_signatures=False):
        self.secret = secret
        self.accept_bad_signatures = accept_bad_signatures
        self._lock = threading.Condition()
        self._stop = threading.Event()
        self._mode = {"status": status, "delay": delay, "hang": hang, "fail_first": fail_first}
        self._requests = []
        self._log = open(log_path, "a", encoding="utf-8") if log_path else None
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive: gcmsg reuses its connection per hook

            def log_message(self, fmt, *args):  # quiet
                pass

            def _answer(self, status, body=b"", ctype="text/plain"):
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _read_body(self):
                n = int(self.headers.get("Content-Length") or 0)
                if n < 0 or n > BODY_CAP:
                    self.close_connection = True
                    return None
                return self.rfile.read(n) if n else b""

            def do_GET(self):
                if self.path == "/_requests":
                    self._answer(200, json.dumps(receiver.requests).encode(), "application/json")
                else:
                    self._answer(404)

            def do_POST(self):
                body = self._read_body()
                if body is None:
                    self._answer(413)
                    return
                if self.path == "/_control":
                    try:
                        receiver.set(**json.loads(body or b"{}"))
                    except (ValueError, TypeError) as e:
                        self._answer(400, str(e).encode())
                        return
                    self._answer(200, b"{}", "application/json")
                    return
                receiver._handle(self, body)

        self._server = http.server.ThreadingHTTPServer((host, port), Handler)
        self._server.daemon_threads = True
        self.host, self.port = self._server.server_address[:2]
        self._thread = None

    # ---- control ----
    def set(self, status=None, delay=None, hang=None, fail_first=None):
        with self._lock:
            if status is not None:
                self._mode["status"] = int(status)
            if delay is not None:
                self._mode["delay"] = float(delay)
            if hang is not None:
                self._mode["hang"] = bool(hang)
            if fail_first is not None:
                self._mode["fail_first"] = int(fail_first)

    def url(self, path="/hook"):
        return "http://%s:%d%s" % (self.host, self.port, path)

    @property
    def requests(self):
        with self._lock:
            return [dict(r) for r in self._requests]

    def clear(self):
        with self._lock:
            self._requests.clear()

    def wait_for(self, n, timeout=10.0):
        """Wait until n POSTs were recorded; returns the recorded POSTs (maybe fewer on timeout)."""
        end = time.monotonic() + timeout
        with self._lock:
            while len(self._requests) < n:
                left = end - time.monotonic()
                if left <= 0:
                    break
                self._lock.wait(left)
            return [dict(r) for r in self._requests]

    def start(self):
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self):
        self._stop.set()  # releases hanging handlers (they then drop the connection)
        self._server.shutdown()
        self._server.server_close()
        if self._thread:
            self._thread.join(5)
        if self._log:
            self._log.close()
            self._log = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # ---- one POST ----
    def _handle(self, h, body):
        now = time.time()
        headers = {k.lower(): v for k, v in h.headers.items()}
        ts = headers.get("x-gcmsg-timestamp")
        sig = headers.get("x-gcmsg-signature-256")
        ok = None if self.secret is None else verify_signature(self.secret, ts, body, sig)
        try:
            skew = now - int(ts) if ts is not None else None
        except ValueError:
            skew = None
        with self._lock:
            mode = dict(self._mode)
            if self._mode["fail_first"] > 0:
                self._mode["fail_first"] -= 1
        status = mode["status"]
        if mode["fail_first"] > 0:
            status = 500
        if ok is False and not self.accept_bad_signatures:
            status = 401
        rec = {"time": now, "method": h.command, "path": h.path, "headers": headers,
               "body": body.decode("utf-8", "replace"), "event_id": headers.get("x-gcmsg-event-id"),
               "timestamp": ts, "signature": sig, "signature_ok": ok, "skew_s": skew,
               "status": None if mode["hang"] else status}
        self._record(rec)
        if mode["hang"]:
            self._stop.wait()
            h.close_connection = True
            return
        if mode["delay"] > 0 and self._stop.wait(mode["delay"]):
            h.close_connection = True
            return
        h._answer(status, b"{}" if 200 <= status < 300 else b"failed", "application/json")

    def _record(self, rec):
        with self._lock:
            self._requests.append(rec)
            if self._log:
                self._log.write(json.dumps(rec) + "\n")
                self._log.flush()
            self._lock.notify_all()


def main(argv=None):
    ap = argparse.ArgumentParser(description="Record and verify gcmsg webhook POSTs.")
    ap.add_argument("--port-file", required=True, help="write the port here once listening")
    ap.add_argument("--secret", help="the webhook secret (signatures are checked when given)")
    ap.add_argument("--log", help="append one JSON line per POST")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--status", type=int, default=200, help="status of the answers (default 200)")
    ap.add_argument("--delay", type=float, default=0.0, help="seconds before each answer")
    ap.add_argument("--hang", action="store_true", help="read each POST and never answer")
    ap.add_argument("--fail-first", type=int, default=0, help="answer 500 to the first N POSTs")
    ap.add_argument("--accept-bad-signatures", action="store_true",
                    help="answer as usual even when a signature does not verify")
    a = ap.parse_args(argv)
    rx = WebhookReceiver(secret=a.secret, host=a.host, port=a.port, status=a.status, delay=a.delay,
                         hang=a.hang, fail_first=a.fail_first, log_path=a.log,
                         accept_bad_signatures=a.accept_bad_signatures)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    rx.start()
    tmp = a.port_file + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write("%d\n" % rx.port)
    os.replace(tmp, a.port_file)
    done.wait()
    rx.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
