"""s3:// and gs:// through the mount: signed requests that a SigV4-checking S3 server accepts,
credentials from every place AWS tools look, clear errors when they are wrong."""

import errno
import json
import os

import h5py
import numpy as np
import pytest
import zarr

import h5refs
from conftest import clean_env, write_refs
from servers import CredentialServer, StsServer

S3RVER_CREDENTIALS = {"AccessKeyId": "S3RVER", "SecretAccessKey": "S3RVER", "Token": "temporary-session-token"}


@pytest.fixture
def dataset(s3_server, tmp_path):
    """An HDF5 file uploaded to the bucket, and kerchunk-style (v1) references to its s3:// URL."""
    path = tmp_path / "source.h5"
    data = np.random.default_rng(3).normal(size=(20, 30, 40)).astype("<f4")
    with h5py.File(path, "w") as f:
        f.create_dataset("t", data=data, chunks=(5, 30, 40), compression="gzip")
    key = f"{tmp_path.name}/source.h5"
    s3_server.put(key, path.read_bytes())
    refs = {"version": 1, "refs": h5refs.build(path, url=f"s3://{s3_server.bucket}/{key}")}
    return write_refs(tmp_path / "refs.json", refs), data


def read_all(m):
    return zarr.open_array(str(m.path("t")), mode="r")[...]


def test_credentials_from_the_environment_and_a_custom_endpoint(s3_server, dataset, mounts, tmp_path):
    refs, data = dataset
    env = clean_env(AWS_ACCESS_KEY_ID="S3RVER", AWS_SECRET_ACCESS_KEY="S3RVER", HOME=str(tmp_path),
                    AWS_ENDPOINT_URL_S3=s3_server.endpoint)
    np.testing.assert_array_equal(read_all(mounts(refs, env=env)), data)


def test_a_wrong_secret_gives_eio_naming_the_s3_error(s3_server, dataset, mounts, tmp_path):
    refs, _ = dataset
    env = clean_env(AWS_ACCESS_KEY_ID="S3RVER", AWS_SECRET_ACCESS_KEY="not-the-s3rver-secret", HOME=str(tmp_path))
    m = mounts(refs, "-o", f"s3_endpoint={s3_server.endpoint}", env=env)
    with pytest.raises(OSError) as error:
        m.path("t/0.0.0").read_bytes()
    assert error.value.errno == errno.EIO
    log = m.log()
    assert "HTTP 403 SignatureDoesNotMatch" in log and f"/{s3_server.bucket}/" in log
    assert "not-the-s3rver-secret" not in log  # no secret in the log


def test_credentials_from_a_profile_and_options_from_a_config_file(s3_server, dataset, mounts, tmp_path):
    refs, data = dataset
    (tmp_path / "credentials").write_text("[default]\naws_access_key_id = nope\naws_secret_access_key = nope\n\n"
                                          "[research]\naws_access_key_id = S3RVER\naws_secret_access_key = S3RVER\n")
    (tmp_path / "kerchunkfs.conf").write_text(f"# S3 settings\ns3_endpoint = {s3_server.endpoint}\ns3_region=us-east-1\n")
    env = clean_env(AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "credentials"), AWS_PROFILE="research",
                    HOME=str(tmp_path))
    m = mounts(refs, "-o", f"config={tmp_path / 'kerchunkfs.conf'}", env=env)
    np.testing.assert_array_equal(read_all(m), data)


def test_credentials_from_instance_metadata_with_a_session_token(s3_server, dataset, mounts, tmp_path):
    refs, data = dataset
    imds = CredentialServer(S3RVER_CREDENTIALS)
    try:
        env = clean_env(AWS_EC2_METADATA_DISABLED="false", AWS_EC2_METADATA_SERVICE_ENDPOINT=imds.url,
                        HOME=str(tmp_path))
        m = mounts(refs, "-o", f"s3_endpoint={s3_server.endpoint}", env=env)
        # The server checks the signature, which covers x-amz-security-token: the token was sent.
        np.testing.assert_array_equal(read_all(m), data)
        assert ("PUT", "/latest/api/token", "21600") in imds.seen  # the IMDSv2 token flow
        assert ("GET", "/latest/meta-data/iam/security-credentials/test-role", "imds-session-token") in imds.seen
    finally:
        imds.stop()


def test_credentials_from_a_container_endpoint(s3_server, dataset, mounts, tmp_path):
    refs, data = dataset
    ecs = CredentialServer(S3RVER_CREDENTIALS, container_token="Bearer abc")
    try:
        env = clean_env(AWS_CONTAINER_CREDENTIALS_FULL_URI=ecs.url + "/container-credentials",
                        AWS_CONTAINER_AUTHORIZATION_TOKEN="Bearer abc", HOME=str(tmp_path))
        m = mounts(refs, "-o", f"s3_endpoint={s3_server.endpoint}", env=env)
        np.testing.assert_array_equal(read_all(m), data)
        assert ("GET", "/container-credentials", "Bearer abc") in ecs.seen
    finally:
        ecs.stop()


def test_no_credentials_gives_eio_saying_where_it_looked(s3_server, dataset, mounts, tmp_path):
    refs, _ = dataset
    m = mounts(refs, "-o", f"s3_endpoint={s3_server.endpoint}", env=clean_env(HOME=str(tmp_path)))
    with pytest.raises(OSError) as error:
        m.path("t/0.0.0").read_bytes()
    assert error.value.errno == errno.EIO
    assert "no AWS credentials" in m.log() and "-o anon" in m.log()


def test_gs_urls_read_through_the_storage_emulator_host(nginx, tmp_path, mounts):
    blob = os.urandom(50_000)
    (nginx.root / "gcs-bucket").mkdir(exist_ok=True)
    (nginx.root / "gcs-bucket" / "obj.bin").write_bytes(blob)
    refs = write_refs(tmp_path / "refs.json", {"a": ["gs://gcs-bucket/obj.bin", 100, 1000],
                                               "b": ["gcs://gcs-bucket/obj.bin"]})
    env = clean_env(STORAGE_EMULATOR_HOST=f"http://127.0.0.1:{nginx.port}/data")
    m = mounts(refs, env=env)
    assert m.path("a").read_bytes() == blob[100:1100]
    assert m.path("b").read_bytes() == blob


def test_temporary_credentials_are_fetched_again_before_they_expire(s3_server, dataset, mounts, tmp_path):
    import time
    refs, data = dataset
    # Credentials that live 6 seconds are used for half their life, then fetched again: five
    # minutes before expiry, the rule for long-lived ones, would mean a fetch for every request.
    imds = CredentialServer(S3RVER_CREDENTIALS, lifetime_s=6)
    try:
        env = clean_env(AWS_EC2_METADATA_DISABLED="false", AWS_EC2_METADATA_SERVICE_ENDPOINT=imds.url,
                        HOME=str(tmp_path))
        m = mounts(refs, "-o", f"s3_endpoint={s3_server.endpoint}", "-o", "prefetch=0", env=env)

        def fetched():
            return len([seen for seen in imds.seen if seen[1].endswith("/test-role")])

        assert m.path("t/0.0.0").read_bytes() and m.path("t/1.0.0").read_bytes()
        assert fetched() == 1
        time.sleep(3.5)
        np.testing.assert_array_equal(read_all(m), data)
        assert fetched() == 2
    finally:
        imds.stop()


def test_a_missing_key_gives_eio_naming_nosuchkey(s3_server, tmp_path, mounts):
    refs = write_refs(tmp_path / "refs.json", {"k": [f"s3://{s3_server.bucket}/no/such/key.h5", 0, 10]})
    env = clean_env(AWS_ACCESS_KEY_ID="S3RVER", AWS_SECRET_ACCESS_KEY="S3RVER", HOME=str(tmp_path))
    m = mounts(refs, "-o", f"s3_endpoint={s3_server.endpoint}", env=env)
    with pytest.raises(OSError) as error:
        m.path("k").read_bytes()
    assert error.value.errno == errno.EIO
    assert f"/{s3_server.bucket}/no/such/key.h5 bytes=0-9: HTTP 404 NoSuchKey (after 1 attempt)" in m.log()


def test_anonymous_requests_carry_no_signature(nginx, tmp_path, mounts):
    # A public bucket behind an S3-compatible endpoint: nginx serving /data/BUCKET/KEY.
    blob = os.urandom(30_000)
    (nginx.root / "public-bucket").mkdir(exist_ok=True)
    (nginx.root / "public-bucket" / "open.bin").write_bytes(blob)
    refs = write_refs(tmp_path / "refs.json", {"k": ["s3://public-bucket/open.bin", 10, 20_000]})
    env = clean_env(AWS_ACCESS_KEY_ID="S3RVER", AWS_SECRET_ACCESS_KEY="S3RVER", HOME=str(tmp_path))
    m = mounts(refs, "-o", f"anon,s3_endpoint=http://127.0.0.1:{nginx.port}/data", env=env)
    assert m.path("k").read_bytes() == blob[10:20_010]
    assert nginx.authorizations("public-bucket/open.bin") == ["-"]  # nginx logs a missing header as "-"


def test_temporary_keys_from_a_daac_style_credentials_url_are_refreshed_before_they_expire(
        s3_server, dataset, mounts, tmp_path):
    """The JSON NASA's DAACs serve at .../s3credentials (accessKeyId, secretAccessKey, sessionToken,
    expiration), behind basic auth from a netrc file; keys that expire 4 seconds after each fetch
    are fetched again before then."""
    import base64
    import datetime
    import http.server
    import threading
    import time

    from servers import free_port
    fetches = []

    class Credentials(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            if self.headers.get("Authorization") != "Basic " + base64.b64encode(b"alice:pw-123").decode():
                self.send_error(401)
                return
            fetches.append(time.time())
            expiration = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=4)
            body = json.dumps({"accessKeyId": "S3RVER", "secretAccessKey": "S3RVER",
                               "sessionToken": f"session-{len(fetches)}",
                               "expiration": expiration.strftime("%Y-%m-%d %H:%M:%S+00:00")}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), Credentials)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        refs, data = dataset
        (tmp_path / "netrc").write_text("machine localhost login alice password pw-123\n")
        env = clean_env(HOME=str(tmp_path))
        m = mounts(refs, "-o", f"s3_endpoint={s3_server.endpoint}", "-o", f"netrc={tmp_path / 'netrc'}",
                   "-o", f"s3_credentials_url=http://localhost:{server.server_address[1]}/s3credentials",
                   "-o", "prefetch=0", env=env)
        assert m.path("t/0.0.0").read_bytes()  # the first keys
        time.sleep(3)  # past half their life: fetched again before they expire
        np.testing.assert_array_equal(read_all(m), data)
        assert len(fetches) >= 2, fetches
        assert "pw-123" not in m.log()
    finally:
        server.shutdown()
        server.server_close()


def test_requester_pays_requests_carry_a_signed_payer_header_the_server_accepts(s3_server, dataset, mounts, tmp_path):
    """s3rver checks the signature over every signed header, the payer header included (the
    unit tests compare the signature with botocore's)."""
    refs, data = dataset
    env = clean_env(AWS_ACCESS_KEY_ID="S3RVER", AWS_SECRET_ACCESS_KEY="S3RVER", HOME=str(tmp_path))
    m = mounts(refs, "-o", f"s3_endpoint={s3_server.endpoint}", "-o", "requester_pays", env=env)
    np.testing.assert_array_equal(read_all(m), data)


def test_credentials_from_a_profiles_credential_process_refreshed_when_they_expire(s3_server, dataset, mounts,
                                                                                    tmp_path):
    """AWS's credential_process: the profile's program prints temporary keys, which sign requests
    the SigV4-checking server accepts; it runs again once they are about to expire."""
    import time
    refs, data = dataset
    runs = tmp_path / "runs"
    script = tmp_path / "keys.sh"
    script.write_text("#!/bin/sh\necho run >> \"$1\"\n"
                      "expires=$(date -u -d '+6 seconds' +%Y-%m-%dT%H:%M:%SZ)\n"
                      "printf '{\"Version\": 1, \"AccessKeyId\": \"S3RVER\", \"SecretAccessKey\": \"S3RVER\", "
                      "\"SessionToken\": \"from-process\", \"Expiration\": \"%s\"}' \"$expires\"\n")
    script.chmod(0o755)
    (tmp_path / "config").write_text(f"[profile research]\ncredential_process = \"{script}\" \"{runs}\"\n")
    env = clean_env(AWS_CONFIG_FILE=str(tmp_path / "config"), AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "none"),
                    AWS_PROFILE="research", HOME=str(tmp_path))
    m = mounts(refs, "-o", f"s3_endpoint={s3_server.endpoint}", "-o", "prefetch=0", env=env)
    assert m.path("t/0.0.0").read_bytes() and m.path("t/1.0.0").read_bytes()
    assert runs.read_text().count("run") == 1
    time.sleep(3.5)  # past half the 6 s lifetime: run again before the next request
    np.testing.assert_array_equal(read_all(m), data)
    assert runs.read_text().count("run") == 2
    assert "S3RVER" not in m.log()


def test_a_failing_credential_process_gives_eio_naming_it(s3_server, dataset, mounts, tmp_path):
    refs, _ = dataset
    (tmp_path / "config").write_text("[default]\ncredential_process = sh -c 'exit 3'\n")
    env = clean_env(AWS_CONFIG_FILE=str(tmp_path / "config"), AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "none"),
                    HOME=str(tmp_path))
    m = mounts(refs, "-o", f"s3_endpoint={s3_server.endpoint}", env=env)
    with pytest.raises(OSError) as raised:
        read_all(m)
    assert raised.value.errno == errno.EIO
    assert "credential_process: exited with status 3" in m.log(), m.log()


def test_credentials_from_a_web_identity_token_through_sts(s3_server, dataset, mounts, tmp_path):
    """Kubernetes pods' way: AWS_WEB_IDENTITY_TOKEN_FILE and AWS_ROLE_ARN, exchanged with STS
    (a fake one) for temporary keys that sign requests the SigV4-checking server accepts; a
    rotated token file is read at the next exchange."""
    import time
    refs, data = dataset
    token = tmp_path / "token"
    token.write_text("eyJ-first-token\n")
    sts = StsServer("eyJ-first-token", S3RVER_CREDENTIALS, lifetime_s=6)
    try:
        env = clean_env(AWS_WEB_IDENTITY_TOKEN_FILE=str(token), AWS_ROLE_ARN="arn:aws:iam::123456789012:role/reader",
                        AWS_ENDPOINT_URL_STS=sts.url, HOME=str(tmp_path))
        m = mounts(refs, "-o", f"s3_endpoint={s3_server.endpoint}", "-o", "prefetch=0", env=env)
        assert m.path("t/0.0.0").read_bytes()
        assert len(sts.calls) == 1 and sts.calls[0]["RoleArn"] == "arn:aws:iam::123456789012:role/reader"
        token.write_text("eyJ-second-token\n")
        sts.token = "eyJ-second-token"
        time.sleep(3.5)  # past half the keys' life
        np.testing.assert_array_equal(read_all(m), data)
        assert len(sts.calls) == 2 and sts.calls[1]["WebIdentityToken"] == "eyJ-second-token"
        assert "eyJ-" not in m.log()

        # A token STS refuses: EIO, and a log line with STS's error code.
        token.write_text("eyJ-stale\n")
        refused = mounts(refs, "-o", f"s3_endpoint={s3_server.endpoint}", env=env)
        with pytest.raises(OSError) as raised:
            read_all(refused)
        assert raised.value.errno == errno.EIO
        assert "STS AssumeRoleWithWebIdentity" in refused.log() and "InvalidIdentityToken" in refused.log()
    finally:
        sts.stop()
