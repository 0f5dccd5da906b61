"""An Earthdata-Login-style flow, simulated with two small servers: the data host serves only with
its session cookie and otherwise redirects to a login host, which checks basic-auth credentials
(from a netrc file, sent only to the login host) and redirects back to the data host's callback,
which sets the cookie and redirects to the data. A mount logs in once and reads correct bytes;
wrong credentials give EIO with a log line, and the password is never logged."""

import base64
import http.server
import re
import threading
import time
import urllib.parse

import h5py
import numpy as np
import pytest
import zarr

import h5refs
from conftest import write_refs
from servers import free_port

USER, PASSWORD = "alice", "s3cr3t-pw"


def send_range(handler, data):
    """Answers `handler`'s request with the bytes of `data` its Range header asks for (206)."""
    first, last = map(int, re.fullmatch(r"bytes=(\d+)-(\d+)", handler.headers["Range"]).groups())
    last = min(last, len(data) - 1)
    handler.send_response(206)
    handler.send_header("Content-Range", f"bytes {first}-{last}/{len(data)}")
    handler.send_header("Content-Length", str(last - first + 1))
    handler.end_headers()
    handler.wfile.write(data[first:last + 1])


class Hosts:
    """The data host on 127.0.0.1 and the login host on localhost (another name: netrc matches
    machines by name, and cookies ignore ports)."""

    def __init__(self, root):
        self.root = root
        self.logins = 0            # successful logins at the login host
        self.refused_logins = 0
        self.authorization_at_data_host = []
        self.data_port, self.login_port = free_port(), free_port()
        self.servers = [http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
                        for port, handler in ((self.data_port, self.data_handler()),
                                              (self.login_port, self.login_handler()))]
        for server in self.servers:
            threading.Thread(target=server.serve_forever, daemon=True).start()

    def url(self, name):
        return f"http://127.0.0.1:{self.data_port}/data/{name}"

    def stop(self):
        for server in self.servers:
            server.shutdown()
            server.server_close()

    def data_handler(self):
        hosts = self

        class Data(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def redirect(self, location, cookie=None):
                self.send_response(302)
                self.send_header("Location", location)
                if cookie:
                    self.send_header("Set-Cookie", cookie)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def do_GET(self):
                if self.headers.get("Authorization"):
                    hosts.authorization_at_data_host.append(self.headers["Authorization"])
                url = urllib.parse.urlparse(self.path)
                query = urllib.parse.parse_qs(url.query)
                if url.path == "/callback":
                    if query.get("code") != ["granted"]:
                        self.send_error(403)
                        return
                    return self.redirect(query["next"][0], "session=granted-session; Path=/; HttpOnly")
                if "session=granted-session" not in (self.headers.get("Cookie") or ""):
                    back = urllib.parse.quote(self.path)
                    return self.redirect(f"http://localhost:{hosts.login_port}/authorize?next={back}")
                send_range(self, (hosts.root / url.path.removeprefix("/data/")).read_bytes())

        return Data

    def login_handler(self):
        hosts = self

        class Login(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                expected = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
                if self.headers.get("Authorization") != expected:
                    hosts.refused_logins += 1
                    self.send_response(401)
                    self.send_header("WWW-Authenticate", 'Basic realm="login"')
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                hosts.logins += 1
                next_path = urllib.parse.parse_qs(urllib.parse.urlparse(self.path).query)["next"][0]
                self.send_response(302)
                callback = f"http://127.0.0.1:{hosts.data_port}/callback?code=granted&next={urllib.parse.quote(next_path)}"
                self.send_header("Location", callback)
                self.send_header("Content-Length", "0")
                self.end_headers()

        return Login


@pytest.fixture
def hosts(tmp_path):
    root = tmp_path / "www"
    root.mkdir()
    server = Hosts(root)
    yield server
    server.stop()


def dataset(hosts, tmp_path):
    data = np.random.default_rng(9).normal(size=(16, 64)).astype("<f4")
    with h5py.File(hosts.root / "granule.h5", "w") as f:
        f.create_dataset("v", data=data, chunks=(2, 64), compression="gzip")
    refs = h5refs.build(hosts.root / "granule.h5", url=hosts.url("granule.h5"))
    return write_refs(tmp_path / "refs.json", refs), data


def netrc(tmp_path, password):
    path = tmp_path / "netrc"
    path.write_text(f"machine localhost\nlogin {USER}\npassword {password}\n")
    path.chmod(0o600)
    return path


def test_a_login_redirect_chain_is_followed_once_per_mount_with_netrc_credentials(hosts, tmp_path, mounts):
    refs, data = dataset(hosts, tmp_path)
    m = mounts(refs, "-o", f"netrc={netrc(tmp_path, PASSWORD)}")
    np.testing.assert_array_equal(zarr.open_array(str(m.path("v")), mode="r")[...], data)
    assert hosts.logins == 1, hosts.logins
    assert hosts.authorization_at_data_host == []  # the credentials went to the login host alone
    assert PASSWORD not in m.log()


def test_wrong_credentials_give_eio_and_a_log_line_naming_the_url_and_status(hosts, tmp_path, mounts):
    refs, _ = dataset(hosts, tmp_path)
    m = mounts(refs, "-o", f"netrc={netrc(tmp_path, 'wrong-pw')}")
    with pytest.raises(OSError) as failure:
        m.path("v/0.0").read_bytes()
    assert failure.value.errno == 5
    lines = [line for line in m.log().splitlines() if "v/0.0" in line]
    assert lines and "401" in lines[0] and f"127.0.0.1:{hosts.data_port}" in lines[0], m.log()
    assert hosts.refused_logins <= 2, hosts.refused_logins  # not a retry storm
    assert "wrong-pw" not in m.log()


class TokenHost(http.server.ThreadingHTTPServer):
    """Serves files by range: under the name 127.0.0.1 only with a valid bearer token; under the
    name localhost to anyone, recording any Authorization header sent there."""

    def __init__(self, root):
        self.root, self.tokens, self.leaked, self.refused = root, {"token-1"}, [], 0
        host = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                authorization = self.headers.get("Authorization")
                if self.headers["Host"].startswith("localhost"):
                    if authorization:
                        host.leaked.append(authorization)
                elif authorization not in {f"Bearer {token}" for token in host.tokens}:
                    host.refused += 1
                    self.send_error(401)
                    return
                send_range(self, (host.root / self.path.removeprefix("/")).read_bytes())

        super().__init__(("127.0.0.1", free_port()), Handler)
        threading.Thread(target=self.serve_forever, daemon=True).start()


def test_a_bearer_token_goes_to_the_auth_hosts_alone_and_is_read_again_when_it_changes(tmp_path, mounts):
    import time
    root = tmp_path / "www"
    root.mkdir()
    server = TokenHost(root)
    try:
        port = server.server_address[1]
        refs, expected = {}, {}
        for name, host in (("v", "127.0.0.1"), ("w", "localhost"), ("u", "127.0.0.1")):
            expected[name] = np.random.default_rng(len(name) + ord(name)).normal(size=(8, 32)).astype("<f4")
            with h5py.File(root / f"{name}.h5", "w") as f:
                f.create_dataset(name, data=expected[name], chunks=(2, 32))
            refs.update(h5refs.build(root / f"{name}.h5", url=f"http://{host}:{port}/{name}.h5"))
        token = tmp_path / "token"
        token.write_text("token-1\n")
        m = mounts(write_refs(tmp_path / "refs.json", refs), "-o", f"bearer_token_file={token}",
                   "-o", "auth_hosts=127.0.0.1")
        for name in ("v", "w"):
            np.testing.assert_array_equal(zarr.open_array(str(m.path(name)), mode="r")[...], expected[name])
        token.write_text("token-2\n")  # rotated: the server takes only the new one now
        server.tokens = {"token-2"}
        time.sleep(1.2)
        np.testing.assert_array_equal(zarr.open_array(str(m.path("u")), mode="r")[...], expected["u"])
        assert server.leaked == [] and server.refused == 0
        assert "token-1" not in m.log() and "token-2" not in m.log()
    finally:
        server.shutdown()
        server.server_close()


def test_a_bearer_token_without_auth_hosts_is_refused(tmp_path):
    import subprocess
    from conftest import kerchunkfs_binary
    (tmp_path / "token").write_text("secret")
    (tmp_path / "refs.json").write_text("{}")
    (tmp_path / "mnt").mkdir()
    out = subprocess.run([kerchunkfs_binary(), str(tmp_path / "refs.json"), str(tmp_path / "mnt"), "-f", "-o",
                          f"bearer_token_file={tmp_path / 'token'}"], capture_output=True, text=True, timeout=30)
    assert out.returncode == 2
    assert out.stderr.strip() == "kerchunkfs: -o bearer_token_file needs -o auth_hosts: the hosts the token may go to"


class HeaderHost(http.server.ThreadingHTTPServer):
    """Serves files by range: under the name 127.0.0.1 only to requests carrying both headers the
    user configured, and /away/NAME there redirects to NAME under the name localhost, which serves
    anyone and records any of those headers that reached it."""

    WANTED = {"X-Api-Key": "k-123:x", "X-Team": "ocean"}

    def __init__(self, root):
        self.root, self.leaked, self.refused = root, [], 0
        host = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                sent = {name: self.headers.get(name) for name in host.WANTED}
                if self.headers["Host"].startswith("localhost"):
                    host.leaked += [f"{k}: {v}" for k, v in sent.items() if v is not None]
                elif sent != host.WANTED:
                    host.refused += 1
                    self.send_error(403)
                    return
                elif self.path.startswith("/away/"):
                    self.send_response(302)
                    self.send_header("Location", f"http://localhost:{host.server_address[1]}/{self.path[6:]}")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                send_range(self, (host.root / self.path.removeprefix("/")).read_bytes())

        super().__init__(("127.0.0.1", free_port()), Handler)
        threading.Thread(target=self.serve_forever, daemon=True).start()


def test_headers_go_to_the_auth_hosts_alone_redirects_included(tmp_path, mounts):
    root = tmp_path / "www"
    root.mkdir()
    server = HeaderHost(root)
    try:
        port = server.server_address[1]
        refs, expected = {}, {}
        for name, path in (("v", "v.h5"), ("w", "away/w.h5")):
            expected[name] = np.random.default_rng(ord(name)).normal(size=(8, 32)).astype("<f4")
            with h5py.File(root / f"{name}.h5", "w") as f:
                f.create_dataset(name, data=expected[name], chunks=(2, 32))
            refs.update(h5refs.build(root / f"{name}.h5", url=f"http://127.0.0.1:{port}/{path}"))
        m = mounts(write_refs(tmp_path / "refs.json", refs), "-o", "header=X-Api-Key: k-123:x",
                   "-o", "header=X-Team:ocean", "-o", "auth_hosts=127.0.0.1")
        for name in ("v", "w"):
            np.testing.assert_array_equal(zarr.open_array(str(m.path(name)), mode="r")[...], expected[name])
        assert server.refused == 0 and server.leaked == []
        assert "k-123" not in m.log()
        # Without the headers the host refuses: EIO, not wrong bytes.
        bare = mounts(write_refs(tmp_path / "refs.json", refs), "-o", "header=X-Team:ocean",
                      "-o", "auth_hosts=127.0.0.1")
        with pytest.raises(OSError):
            bare.path("v/0.0").read_bytes()
        assert "HTTP 403" in bare.log() or "403" in bare.log()
    finally:
        server.shutdown()
        server.server_close()


def test_a_header_without_auth_hosts_or_malformed_is_refused(tmp_path):
    import subprocess
    from conftest import kerchunkfs_binary
    (tmp_path / "refs.json").write_text("{}")
    (tmp_path / "mnt").mkdir()
    for options, message in ((["-o", "header=X-Key:1"], "-o header needs -o auth_hosts: the hosts the headers may go to"),
                             (["-o", "header=X Key:1", "-o", "auth_hosts=h"],
                              "-o header=X Key:1: header: \"X Key\" is not NAME:VALUE with a header name")):
        out = subprocess.run([kerchunkfs_binary(), str(tmp_path / "refs.json"), str(tmp_path / "mnt"), "-f", *options],
                             capture_output=True, text=True, timeout=30)
        assert out.returncode == 2
        assert out.stderr.strip() == f"kerchunkfs: {message}"


@pytest.mark.parametrize("credentials", ["none", "netrc in HOME"])
def test_first_requests_to_a_host_wait_for_its_first_answer_only_where_a_login_may_happen(credentials, tmp_path,
                                                                                          mounts):
    """A login must happen once, so with netrc credentials the first request to a host goes alone
    and the others wait for its answer; without any, nothing can log in and they go together."""
    from concurrent.futures import ThreadPoolExecutor

    from conftest import clean_env
    from servers import ConnectionCountingServer

    delay = 0.5
    root = tmp_path / "objects"
    root.mkdir()
    files = {f"f{i}.bin": bytes([i]) * 5_000 for i in range(6)}
    for name, data in files.items():
        (root / name).write_bytes(data)
    home = tmp_path / "home"
    home.mkdir()
    if credentials != "none":
        (home / ".netrc").write_text(f"machine localhost\nlogin {USER}\npassword {PASSWORD}\n")
    server = ConnectionCountingServer(root, delay_s=delay)
    try:
        refs = {f"c/{i}": [f"http://127.0.0.1:{server.port}/data/f{i}.bin", 0, 5_000] for i in range(6)}
        m = mounts(write_refs(tmp_path / "refs.json", refs), "-o", "prefetch=0", env=clean_env(HOME=str(home)))
        started = time.monotonic()
        with ThreadPoolExecutor(max_workers=6) as pool:
            read = list(pool.map(lambda i: m.path(f"c/{i}").read_bytes(), range(6)))
        seconds = time.monotonic() - started
        assert read == [files[f"f{i}.bin"] for i in range(6)]
        if credentials == "none":
            assert seconds < 1.6 * delay, seconds  # one round trip
        else:
            assert seconds >= 2 * delay, seconds  # the first answer, then the others
    finally:
        server.stop()
