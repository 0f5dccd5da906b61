"""Real HTTP servers for the tests, on 127.0.0.1 ports chosen free, stopped by PID.

Nginx serves a directory with Range support (and, under /slow/, 20 ms of latency per request
through the echo module). FaultServer is our own: each request path names what goes wrong and
for how many attempts, so that every fault test is deterministic.
"""

import http.server
import os
import random
import re
import shutil
import socket
import subprocess
import threading
import time
from pathlib import Path

ECHO_MODULE = "/usr/lib/nginx/modules/ngx_http_echo_module.so"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port, process, what):
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{what} exited with {process.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.02)
    raise RuntimeError(f"{what} did not listen on port {port}")


def nginx_unavailable_reason():
    if shutil.which("nginx") is None:
        return "nginx is not installed (Debian package nginx-light)"
    if not os.path.exists(ECHO_MODULE):
        return "the nginx echo module is not installed (Debian package libnginx-mod-http-echo)"
    if shutil.which("openssl") is None:
        return "openssl is not installed (Debian package openssl)"
    return None


class Nginx:
    def __init__(self, root, work, latency_s=0.02):
        self.root = Path(root)
        self.work = Path(work)
        self.port = free_port()
        self.tls_port = free_port()
        # A throwaway self-signed certificate: clients that verify certificates must refuse it.
        cert, key = self.work / "cert.pem", self.work / "key.pem"
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key),
                        "-out", str(cert), "-days", "2", "-subj", "/CN=127.0.0.1",
                        "-addext", "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True)
        self.access_log = self.work / "access.log"
        (self.work / "tmp").mkdir(parents=True, exist_ok=True)
        config = self.work / "nginx.conf"
        temp = self.work / "tmp"
        config.write_text(f"""
load_module {ECHO_MODULE};
daemon off;
master_process off;
pid {self.work}/nginx.pid;
error_log {self.work}/error.log;
events {{ worker_connections 1024; }}
http {{
  log_format with_auth '$remote_addr - - [$time_local] "$request" $status $body_bytes_sent "range=$http_range" "auth=$http_authorization"';
  access_log {self.access_log} with_auth;
  client_body_temp_path {temp}; proxy_temp_path {temp}; fastcgi_temp_path {temp};
  uwsgi_temp_path {temp}; scgi_temp_path {temp};
  keepalive_requests 100000;
  server {{
    listen 127.0.0.1:{self.port};
    location /data/ {{ alias {self.root}/; }}
    location ~ ^/slow/(.*)$ {{ echo_sleep {latency_s}; echo_exec /data/$1; }}
    location ~ ^/to-localhost/(.*)$ {{ return 302 http://localhost:{self.port}/data/$1; }}
    location ~ ^/to-metadata/(.*)$ {{ return 302 http://169.254.169.254/$1; }}
  }}
  server {{
    listen 127.0.0.1:{self.tls_port} ssl http2;
    ssl_certificate {cert};
    ssl_certificate_key {key};
    location /data/ {{ alias {self.root}/; }}
  }}
}}
""")
        self.process = subprocess.Popen(["nginx", "-c", str(config), "-p", str(self.work)],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for_port(self.port, self.process, "nginx")

    def url(self, name, slow=False):
        return f"http://127.0.0.1:{self.port}/{'slow' if slow else 'data'}/{name}"

    def tls_url(self, name):
        return f"https://127.0.0.1:{self.tls_port}/data/{name}"

    def authorizations(self, name):
        """The Authorization header of every logged request for a file path ("" when absent)."""
        if not self.access_log.exists():
            return []
        pattern = re.compile(r'"GET /data/' + re.escape(name) + r' .*"auth=(.*)"$')
        return [m.group(1) for m in map(pattern.search, self.access_log.read_text().splitlines()) if m]

    def protocols(self, name):
        """The protocol of every logged request for a file name, e.g. ["HTTP/2.0", ...]."""
        if not self.access_log.exists():
            return []
        pattern = re.compile(r'"GET /data/' + re.escape(name) + r' (HTTP/[\d.]+)"')
        return [m.group(1) for m in map(pattern.search, self.access_log.read_text().splitlines()) if m]

    def gets(self, name):
        """Requests logged so far for a file name (direct or slow)."""
        if not self.access_log.exists():
            return 0
        pattern = re.compile(r'"GET /(data|slow)/' + re.escape(name) + r' ')
        return sum(1 for line in self.access_log.read_text().splitlines() if pattern.search(line))

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=10)


class _FaultHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_GET(self):
        server = self.server
        match = re.fullmatch(r"/(\w+)/(\d+)/(.+)", self.path)
        if not match:
            return self._plain(404)
        mode, times, name = match.group(1), int(match.group(2)), match.group(3)
        if mode == "mixed":  # TIMES is a percentage: that share of requests fail, each in its own way
            mode = server.pick_fault(times)
            times = 1 if mode != "ok" else 0
        path = server.root / name
        if mode == "notfound" or not path.exists():
            server.count(self.path)
            return self._plain(404)
        data = path.read_bytes()
        first, last = 0, len(data) - 1
        ranged = False
        header = self.headers.get("Range")
        if header:
            m = re.fullmatch(r"bytes=(\d+)-(\d+)", header)
            first, last = int(m.group(1)), min(int(m.group(2)), len(data) - 1)
            ranged = True
        attempt = server.count(self.path, (first, last))
        faulty = mode == "always503" or attempt <= times or (times == 1 and self.path.startswith("/mixed/"))

        if faulty and mode in ("fail503", "always503"):
            return self._plain(503, {"Retry-After": "0"})
        body = data[first:last + 1]
        status = 206 if ranged and mode != "norange" else 200
        if mode == "norange":
            body, status = data, 200
        headers = {"Content-Length": str(len(body))}
        if status == 206:
            shift = 1 if faulty and mode == "wrongrange" else 0
            headers["Content-Range"] = f"bytes {first + shift}-{last + shift}/{len(data)}"
        if faulty and mode == "stall":
            time.sleep(server.stall_s)
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.end_headers()
        if faulty and mode == "trickle":  # far below any sane transfer rate: 64 bytes every half second
            for start in range(0, len(body), 64):
                self.wfile.write(body[start:start + 64])
                self.wfile.flush()
                time.sleep(0.5)
            return
        if faulty and mode in ("reset", "truncate"):
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            if mode == "reset":
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            self.close_connection = True
            return
        self.wfile.write(body)

    def _plain(self, status, headers=None):
        body = f"status {status}\n".encode()
        self.send_response(status)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class FaultServer(http.server.ThreadingHTTPServer):
    """Serves files from `root` at /MODE/TIMES/NAME, where the first TIMES attempts at each range
    misbehave as MODE says: fail503, reset (connection reset mid-body), truncate (body cut
    short), wrongrange (Content-Range off by one), stall (3 s before the headers), norange
    (Range ignored: always 200 and the whole file), always503, notfound, trickle (the body 64 bytes
    every half second). /mixed/PERCENT/NAME: that percentage of all requests, drawn at random,
    fail in one of the ways fail503, reset, truncate, wrongrange, stall, trickle."""

    daemon_threads = True
    FAULTS = ("fail503", "reset", "truncate", "wrongrange", "stall", "trickle")

    def __init__(self, root, stall_s=3, seed=1):
        super().__init__(("127.0.0.1", 0), _FaultHandler)
        self.stall_s = stall_s
        self._random = random.Random(seed)
        self.faults = {}
        self.root = Path(root)
        self.port = self.server_address[1]
        self._lock = threading.Lock()
        self.requests = {}
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)
        self._thread.start()

    def handle_error(self, request, client_address):
        pass  # clients that gave up on a stalled or trickling answer close the connection under it

    def pick_fault(self, percent):
        with self._lock:
            fault = self._random.choice(self.FAULTS) if self._random.random() * 100 < percent else "ok"
            self.faults[fault] = self.faults.get(fault, 0) + 1
            return fault

    def count(self, path, byte_range=None):
        with self._lock:
            self.requests[path] = self.requests.get(path, 0) + 1
            key = (path, byte_range)
            self.requests[key] = self.requests.get(key, 0) + 1
            return self.requests[key]

    def url(self, mode, times, name):
        return f"http://127.0.0.1:{self.port}/{mode}/{times}/{name}"

    def stop(self):
        self.shutdown()
        self.server_close()


S3RVER_VERSION = "5"


def s3rver_unavailable_reason(install_dir):
    """Installs s3rver from npm into `install_dir` when it is not there yet."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        return "node and npm are needed for the S3 test server (@20minutes/s3rver)"
    if not (Path(install_dir) / "node_modules" / "@20minutes" / "s3rver").exists():
        out = subprocess.run(["npm", "install", "--silent", "--no-audit", "--no-fund", "--prefix", str(install_dir),
                              f"@20minutes/s3rver@{S3RVER_VERSION}"], capture_output=True, text=True)
        if out.returncode != 0:
            return f"npm could not install @20minutes/s3rver: {out.stderr.strip()[-300:]}"
    return None


class S3rver:
    """s3rver (SigV4-checking S3 server) with one bucket; credentials S3RVER / S3RVER."""

    ACCESS_KEY = SECRET_KEY = "S3RVER"

    def __init__(self, install_dir, work, bucket="bucket"):
        self.bucket = bucket
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        env = dict(os.environ, NODE_PATH=str(Path(install_dir) / "node_modules"))
        self.process = subprocess.Popen(
            ["node", str(Path(__file__).parent / "s3rver_launch.js"), str(work), str(self.port), bucket],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for_port(self.port, self.process, "s3rver")

    def client(self):
        import botocore.config
        import botocore.session

        session = botocore.session.get_session()
        return session.create_client(
            "s3", endpoint_url=self.endpoint, region_name="us-east-1", aws_access_key_id=self.ACCESS_KEY,
            aws_secret_access_key=self.SECRET_KEY,
            config=botocore.config.Config(s3={"addressing_style": "path"}))

    def put(self, key, data):
        self.client().put_object(Bucket=self.bucket, Key=key, Body=data)

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=10)


class CredentialServer(http.server.ThreadingHTTPServer):
    """A fake credential endpoint on loopback: the EC2 instance metadata service (IMDSv2: a PUT for
    a session token, then the role and its credentials) or an ECS container endpoint."""

    daemon_threads = True

    def __init__(self, credentials, role="test-role", container_token=None, lifetime_s=None):
        self.credentials = credentials
        self.lifetime_s = lifetime_s  # None: credentials that expire in 2099
        self.role = role
        self.container_token = container_token
        self.seen = []  # (method, path, token header or authorization header)
        super().__init__(("127.0.0.1", 0), _CredentialHandler)
        self.port = self.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        threading.Thread(target=self.serve_forever, daemon=True).start()

    def stop(self):
        self.shutdown()
        self.server_close()


class _CredentialHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    IMDS_TOKEN = "imds-session-token"

    def log_message(self, *args):
        pass

    def _send(self, status, body=b""):
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_PUT(self):
        self.server.seen.append(("PUT", self.path, self.headers.get("X-aws-ec2-metadata-token-ttl-seconds")))
        if self.path == "/latest/api/token" and self.headers.get("X-aws-ec2-metadata-token-ttl-seconds"):
            return self._send(200, self.IMDS_TOKEN.encode())
        self._send(400)

    def do_GET(self):
        import json as _json

        server = self.server
        token = self.headers.get("X-aws-ec2-metadata-token")
        server.seen.append(("GET", self.path, token or self.headers.get("Authorization")))
        import time as _time

        expiration = "2099-01-01T00:00:00Z" if server.lifetime_s is None else \
            _time.strftime("%Y-%m-%dT%H:%M:%SZ", _time.gmtime(_time.time() + server.lifetime_s))
        body = _json.dumps(dict(server.credentials, Expiration=expiration)).encode()
        if self.path == "/container-credentials":
            if server.container_token and self.headers.get("Authorization") != server.container_token:
                return self._send(401)
            return self._send(200, body)
        if token != self.IMDS_TOKEN:
            return self._send(401)
        base = "/latest/meta-data/iam/security-credentials/"
        if self.path == base:
            return self._send(200, server.role.encode())
        if self.path == base + server.role:
            return self._send(200, body)
        self._send(404)


class _CountingHandler(http.server.BaseHTTPRequestHandler):
    """Serves ranges of files under the server's root for any path /<anything>/<name>, slowly,
    counting the TCP connections open at once (a connection is open from setup to finish)."""

    protocol_version = "HTTP/1.1"  # keep-alive: connections are reused as a client pools them

    def log_message(self, *args):
        pass

    def setup(self):
        super().setup()
        with self.server.lock:
            self.server.open_connections += 1
            self.server.most_open = max(self.server.most_open, self.server.open_connections)

    def finish(self):
        super().finish()
        with self.server.lock:
            self.server.open_connections -= 1

    def do_GET(self):
        data = (self.server.root / self.path.rsplit("/", 1)[-1]).read_bytes()
        first, last = self.headers["Range"].removeprefix("bytes=").split("-")
        first, last = int(first), min(int(last), len(data) - 1)
        time.sleep(self.server.delay_s)
        body = data[first:last + 1]
        self.send_response(206)
        self.send_header("Content-Range", f"bytes {first}-{last}/{len(data)}")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        with self.server.lock:
            self.server.requests += 1


class ConnectionCountingServer(http.server.ThreadingHTTPServer):
    """An HTTP server on loopback that plays web server, S3 endpoint and GCS emulator at once (it
    serves the last path segment from `root`) and records the most connections open at once."""

    daemon_threads = True

    def __init__(self, root, delay_s=0.1):
        self.root = Path(root)
        self.delay_s = delay_s
        self.lock = threading.Lock()
        self.open_connections = self.most_open = self.requests = 0
        super().__init__(("127.0.0.1", 0), _CountingHandler)
        self.port = self.server_address[1]
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.shutdown()
        self.server_close()


class StsServer(http.server.ThreadingHTTPServer):
    """A fake AWS STS on loopback answering AssumeRoleWithWebIdentity (a form POST) as STS does,
    in XML, when the token is the one expected and the role is named; an InvalidIdentityToken
    error otherwise. `calls` records the forms it was sent."""

    daemon_threads = True

    def __init__(self, token, credentials, lifetime_s=3600):
        self.token, self.credentials, self.lifetime_s, self.calls = token, credentials, lifetime_s, []
        sts = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):
                import datetime
                import urllib.parse
                form = urllib.parse.parse_qs(self.rfile.read(int(self.headers["Content-Length"])).decode())
                form = {k: v[0] for k, v in form.items()}
                sts.calls.append(form)
                ok = (form.get("Action") == "AssumeRoleWithWebIdentity" and form.get("Version") == "2011-06-15"
                      and form.get("RoleArn", "").startswith("arn:aws:iam::") and form.get("RoleSessionName")
                      and form.get("WebIdentityToken") == sts.token)
                if ok:
                    expires = (datetime.datetime.now(datetime.timezone.utc)
                               + datetime.timedelta(seconds=sts.lifetime_s)).strftime("%Y-%m-%dT%H:%M:%SZ")
                    c = sts.credentials
                    body = ("<AssumeRoleWithWebIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">"
                            "<AssumeRoleWithWebIdentityResult><Credentials>"
                            f"<AccessKeyId>{c['AccessKeyId']}</AccessKeyId>"
                            f"<SecretAccessKey>{c['SecretAccessKey']}</SecretAccessKey>"
                            f"<SessionToken>{c['Token']}</SessionToken><Expiration>{expires}</Expiration>"
                            "</Credentials></AssumeRoleWithWebIdentityResult></AssumeRoleWithWebIdentityResponse>")
                    status = 200
                else:
                    body = ("<ErrorResponse><Error><Type>Sender</Type><Code>InvalidIdentityToken</Code>"
                            "<Message>bad token</Message></Error></ErrorResponse>")
                    status = 400
                data = body.encode()
                self.send_response(status)
                self.send_header("Content-Type", "text/xml")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        super().__init__(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server_address[1]}"
        threading.Thread(target=self.serve_forever, daemon=True).start()

    def stop(self):
        self.shutdown()
        self.server_close()
