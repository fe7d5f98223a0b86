#!/usr/bin/env python3
"""A small HTTPS server that misbehaves on purpose, for the faults Apache cannot be made to show.

It speaks just enough WebDAV for the agent's upload (MKCOL, PUT, MOVE, HEAD, DELETE, in memory) and
injects one fault into the methods named by --on:

  507      answer "507 Insufficient Storage" (a full storage)
  stall    read the request, then never answer (a hung server or a dead proxy)

Every request line is appended to --log so a test can see what reached the server. Binds 127.0.0.1
on a free port and prints the port on stdout once it listens.
"""
import argparse
import http.server
import ssl
import sys
import threading
import time

parser = argparse.ArgumentParser()
parser.add_argument("--cert", required=True)
parser.add_argument("--key", required=True)
parser.add_argument("--fault", choices=["507", "stall", "none"], required=True)
parser.add_argument("--on", default="PUT", help="comma-separated methods that get the fault")
parser.add_argument("--log", required=True)
args = parser.parse_args()

store = {}
lock = threading.Lock()
faulty = set(args.on.split(","))


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *values):
        pass

    def body(self):
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def answer(self, status, payload=b"", headers=()):
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    def dispatch(self):
        with open(args.log, "a") as log:
            log.write(f"{self.command} {self.path}\n")
        data = self.body()
        if self.command in faulty:
            if args.fault == "507":
                return self.answer(507, b"storage full")
            if args.fault == "stall":
                while True:
                    time.sleep(3600)
        path = self.path.rstrip("/")
        with lock:
            if self.command == "MKCOL":
                return self.answer(405 if path in store else 201)
            if self.command == "PUT":
                store[path] = data
                return self.answer(201)
            if self.command == "MOVE":
                destination = self.headers["Destination"].split("://", 1)[1]
                destination = destination[destination.index("/"):]
                if destination in store and self.headers.get("Overwrite") == "F":
                    return self.answer(412)
                store[destination] = store.pop(path)
                return self.answer(201)
            if self.command == "HEAD":
                if path not in store:
                    return self.answer(404)
                self.send_response(200)
                self.send_header("Content-Length", str(len(store[path])))
                self.end_headers()
                return
            if self.command == "DELETE":
                store.pop(path, None)
                return self.answer(204)
        self.answer(405)

    do_MKCOL = do_PUT = do_MOVE = do_HEAD = do_DELETE = do_GET = dispatch


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
server.daemon_threads = True
context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.load_cert_chain(args.cert, args.key)
server.socket = context.wrap_socket(server.socket, server_side=True)
print(server.server_address[1], flush=True)
server.serve_forever()
