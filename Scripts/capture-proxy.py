#!/usr/bin/env python3
"""Kafka wire-protocol capture proxy (Python stdlib only).

Forwards TCP connections to Kafka brokers on 127.0.0.1 and saves every request frame and its
response frame. A saved frame is the frame body WITHOUT the 4-byte size prefix: requests start
with the request header (api_key, api_version, correlation_id, client_id, ...), responses with
the response header (correlation_id, ...).

Two modes:

  Plain mode: one listener per --map LISTEN_PORT=TARGET_PORT (both on 127.0.0.1).
    capture-proxy.py --out DIR --map 29092=19092
    kcat -L -b 127.0.0.1:29092
  Only connections made to the proxy are captured; Kafka clients reconnect to the advertised
  broker addresses from Metadata, so later requests bypass the proxy.

  Namespace mode (Linux, root): --netns PORTS -- COMMAND...
    capture-proxy.py --out DIR --netns 19092-19097 -- kafka-configs.sh --bootstrap-server 127.0.0.1:19092 ...
  The proxy creates a private network namespace whose loopback listens on the SAME ports as the
  real brokers, runs COMMAND inside it, and forwards each connection to the real port on the
  host's loopback. The client therefore talks to every advertised broker through the proxy, and
  nothing in the frames is rewritten. The proxy exits with COMMAND's exit status.

Output:
  DIR/<Name>-v<version>.bin      one file per message name and version (first capture wins unless
                                 --overwrite), e.g. MetadataRequest-v12.bin, MetadataResponse-v12.bin
  RAWDIR/<pid>-NNNNN-cC-<Name>-v<V>.bin  every frame, in order (only with --raw RAWDIR)
  DIR/capture-index.jsonl        (or --index FILE) one JSON line per frame: label, connection, port, direction,
                                 api_key, name, version, correlation_id, size, sha256, file
"""

import argparse
import ctypes
import hashlib
import json
import os
import re
import socket
import struct
import subprocess
import sys
import threading
import time

CLONE_NEWNET = 0x40000000
DEFAULT_PROTOCOL_DIR = "/work/shared/kafka-protocol"


def load_api_names(protocol_dir):
    """Maps api key -> message base name (e.g. 3 -> 'Metadata') from *Request.json files."""
    names = {}
    try:
        files = os.listdir(protocol_dir)
    except OSError:
        return names
    for f in files:
        if not f.endswith("Request.json"):
            continue
        with open(os.path.join(protocol_dir, f)) as fh:
            text = re.sub(r"//.*", "", fh.read())
        try:
            d = json.loads(text)
        except ValueError:
            continue
        if d.get("type") == "request" and "apiKey" in d:
            names[d["apiKey"]] = d["name"][: -len("Request")]
    return names


class Recorder:
    def __init__(self, out, api_names, label, overwrite, raw, index):
        self.out = out
        self.api_names = api_names
        self.label = label
        self.overwrite = overwrite
        self.raw = raw
        self.lock = threading.Lock()
        self.seq = 0
        os.makedirs(out, exist_ok=True)
        if raw:
            os.makedirs(raw, exist_ok=True)
        self.index = open(index or os.path.join(out, "capture-index.jsonl"), "a")

    def name(self, api_key):
        return self.api_names.get(api_key, "ApiKey%d" % api_key)

    def save(self, conn_id, port, direction, api_key, version, corr, body):
        kind = "Request" if direction == "request" else "Response"
        base = "%s%s-v%d" % (self.name(api_key), kind, version)
        with self.lock:
            self.seq += 1
            path = os.path.join(self.out, base + ".bin")
            written = None
            if self.overwrite or not os.path.exists(path):
                with open(path, "wb") as fh:
                    fh.write(body)
                written = base + ".bin"
            raw_file = None
            if self.raw:
                raw_file = os.path.join(self.raw, "%d-%05d-c%d-%s.bin" % (os.getpid(), self.seq, conn_id, base))
                with open(raw_file, "wb") as fh:
                    fh.write(body)
            rec = {
                "time": round(time.time(), 3),
                "label": self.label,
                "conn": conn_id,
                "port": port,
                "direction": direction,
                "api_key": api_key,
                "name": self.name(api_key) + kind,
                "version": version,
                "correlation_id": corr,
                "size": len(body),
                "sha256": hashlib.sha256(body).hexdigest(),
                "file": written,
                "raw": raw_file,
            }
            self.index.write(json.dumps(rec) + "\n")
            self.index.flush()


def recv_exact(sock, n):
    buf = bytearray()
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            return None
        buf += chunk
    return bytes(buf)


def pump(src, dst, on_frame):
    """Copies length-prefixed frames from src to dst, calling on_frame(body) for each."""
    try:
        while True:
            head = recv_exact(src, 4)
            if head is None:
                break
            (size,) = struct.unpack(">i", head)
            body = recv_exact(src, size)
            if body is None:
                break
            on_frame(body)
            dst.sendall(head + body)
    except OSError:
        pass
    finally:
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class Connection:
    counter = 0
    counter_lock = threading.Lock()

    def __init__(self, client, target_port, recorder):
        with Connection.counter_lock:
            Connection.counter += 1
            self.id = Connection.counter
        self.client = client
        self.port = target_port
        self.recorder = recorder
        self.pending = {}  # correlation id -> (api_key, version)
        self.lock = threading.Lock()

    def on_request(self, body):
        if len(body) < 8:
            return
        api_key, version, corr = struct.unpack(">hhi", body[:8])
        with self.lock:
            self.pending[corr] = (api_key, version)
        self.recorder.save(self.id, self.port, "request", api_key, version, corr, body)

    def on_response(self, body):
        if len(body) < 4:
            return
        (corr,) = struct.unpack(">i", body[:4])
        with self.lock:
            key_ver = self.pending.pop(corr, None)
        if key_ver is None:
            return
        self.recorder.save(self.id, self.port, "response", key_ver[0], key_ver[1], corr, body)

    def run(self):
        try:
            upstream = socket.create_connection(("127.0.0.1", self.port), timeout=10)
            upstream.settimeout(None)
        except OSError as e:
            print("capture-proxy: cannot reach 127.0.0.1:%d: %s" % (self.port, e), file=sys.stderr)
            self.client.close()
            return
        t = threading.Thread(target=pump, args=(upstream, self.client, self.on_response), daemon=True)
        t.start()
        pump(self.client, upstream, self.on_request)
        t.join()
        self.client.close()
        upstream.close()


def serve(listener, target_port, recorder):
    while True:
        try:
            client, _ = listener.accept()
        except OSError:
            return
        conn = Connection(client, target_port, recorder)
        threading.Thread(target=conn.run, daemon=True).start()


def make_listener(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", port))
    s.listen(64)
    return s


def parse_ports(spec):
    ports = []
    for part in spec.split(","):
        if "-" in part:
            a, b = part.split("-")
            ports.extend(range(int(a), int(b) + 1))
        elif part:
            ports.append(int(part))
    return ports


def libc_call(name, *args):
    libc = ctypes.CDLL(None, use_errno=True)
    if getattr(libc, name)(*args) != 0:
        err = ctypes.get_errno()
        raise OSError(err, "%s: %s" % (name, os.strerror(err)))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", required=True, help="output directory")
    p.add_argument("--map", action="append", default=[], help="LISTEN_PORT=TARGET_PORT (plain mode)")
    p.add_argument("--netns", help="ports to mirror inside a private network namespace, e.g. 19092-19097")
    p.add_argument("--label", default="", help="free text stored in capture-index.jsonl (client, command)")
    p.add_argument("--overwrite", action="store_true", help="replace existing <Name>-v<V>.bin files")
    p.add_argument("--raw", metavar="RAWDIR", help="also keep every frame as RAWDIR/<pid>-<seq>-c<conn>-<Name>-v<V>.bin")
    p.add_argument("--index", help="JSON-lines index file (default DIR/capture-index.jsonl)")
    p.add_argument("--protocol-dir", default=DEFAULT_PROTOCOL_DIR)
    p.add_argument("command", nargs=argparse.REMAINDER, help="-- COMMAND... (netns mode)")
    a = p.parse_args()
    cmd = a.command[1:] if a.command[:1] == ["--"] else a.command

    recorder = Recorder(a.out, load_api_names(a.protocol_dir), a.label, a.overwrite, a.raw, a.index)

    if a.netns:
        if not cmd:
            p.error("--netns needs a command after --")
        host_ns = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
        libc_call("unshare", CLONE_NEWNET)
        subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
        inner_ns = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
        listeners = [(make_listener(port), port) for port in parse_ports(a.netns)]
        libc_call("setns", host_ns, CLONE_NEWNET)  # outbound connections go to the host's loopback
        for listener, port in listeners:
            threading.Thread(target=serve, args=(listener, port, recorder), daemon=True).start()

        def enter_inner():
            libc_call("setns", inner_ns, CLONE_NEWNET)

        rc = subprocess.call(cmd, preexec_fn=enter_inner, pass_fds=())
        time.sleep(0.3)  # let the last response frames be recorded
        sys.exit(rc)

    if not a.map:
        p.error("give --map LISTEN=TARGET or --netns PORTS -- COMMAND")
    threads = []
    for m in a.map:
        lp, tp = (int(x) for x in m.split("="))
        t = threading.Thread(target=serve, args=(make_listener(lp), tp, recorder), daemon=True)
        t.start()
        threads.append(t)
        print("capture-proxy: 127.0.0.1:%d -> 127.0.0.1:%d" % (lp, tp), file=sys.stderr, flush=True)
    if cmd:
        sys.exit(subprocess.call(cmd))
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
