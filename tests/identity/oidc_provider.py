"""A small OpenID Connect provider on 127.0.0.1 for the tests: the authorization code
flow with signed (RS256) ID tokens, a JWKS endpoint and userinfo. What it puts in the next
ID token (audience, expiry, groups…) is set by the test."""

from __future__ import annotations

import json
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlparse

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

CLIENT_ID = "moatmap-test"
CLIENT_SECRET = "test-client-secret"


class Provider:
    def __init__(self):
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = "test-key-1"
        self.codes: dict[str, dict] = {}
        # What the next sign-in says about the user, and how the ID token is made.
        self.claims: dict = {}
        self.audience = CLIENT_ID
        self.lifetime = 300
        self.signing_key = self.key
        # What the userinfo endpoint answers (None: the subject of the sign-in only).
        self.userinfo: dict | None = None
        # The paths the server (not the browser's /authorize) asked for, in order.
        self.served: list[str] = []
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                url = urlparse(self.path)
                query = {k: v[0] for k, v in parse_qs(url.query).items()}
                if url.path == "/authorize":
                    code = secrets.token_urlsafe(16)
                    provider.codes[code] = {"nonce": query.get("nonce"), **provider.claims}
                    target = (
                        query["redirect_uri"]
                        + "?"
                        + urlencode({"code": code, "state": query["state"]})
                    )
                    self.send_response(302)
                    self.send_header("Location", target)
                    self.end_headers()
                elif url.path == "/jwks":
                    provider.served.append(url.path)
                    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(provider.key.public_key()))
                    self._json(
                        {"keys": [{**jwk, "kid": provider.kid, "alg": "RS256", "use": "sig"}]}
                    )
                elif url.path == "/userinfo":
                    provider.served.append(url.path)
                    if provider.userinfo is not None:
                        self._json(provider.userinfo)
                    else:
                        self._json({"sub": provider.claims.get("sub")})
                else:
                    self.send_error(404)

            def do_POST(self):
                provider.served.append(urlparse(self.path).path)
                body = self.rfile.read(int(self.headers["Content-Length"])).decode()
                form = {k: v[0] for k, v in parse_qs(body).items()}
                grant = provider.codes.pop(form.get("code", ""), None)
                if (
                    urlparse(self.path).path != "/token"
                    or grant is None
                    or form.get("client_secret") != CLIENT_SECRET
                ):
                    self._json({"error": "invalid_grant"}, status=400)
                    return
                now = int(time.time())
                claims = {
                    "iss": provider.issuer,
                    "aud": provider.audience,
                    "iat": now,
                    "exp": now + provider.lifetime,
                    **{k: v for k, v in grant.items() if v is not None},
                }
                token = jwt.encode(
                    claims, provider.signing_key, algorithm="RS256", headers={"kid": provider.kid}
                )
                self._json(
                    {
                        "id_token": token,
                        "access_token": "at-" + secrets.token_hex(8),
                        "token_type": "Bearer",
                    }
                )

            def _json(self, data, status=200):
                payload = json.dumps(data).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.issuer = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def settings(self) -> dict:
        """The Django settings that point Moat map at this provider."""
        return {
            "OIDC_ENABLED": True,
            "OIDC_RP_CLIENT_ID": CLIENT_ID,
            "OIDC_RP_CLIENT_SECRET": CLIENT_SECRET,
            "OIDC_OP_ISSUER": self.issuer,
            "OIDC_OP_AUTHORIZATION_ENDPOINT": self.issuer + "/authorize",
            "OIDC_OP_TOKEN_ENDPOINT": self.issuer + "/token",
            "OIDC_OP_USER_ENDPOINT": self.issuer + "/userinfo",
            "OIDC_OP_JWKS_ENDPOINT": self.issuer + "/jwks",
            # The server calls the provider through its outgoing check, which refuses this
            # machine unless the operator lists it: the provider here runs on loopback.
            "OUTBOUND_ALLOWED_NETWORKS": ["127.0.0.0/8"],
        }

    def close(self):
        self.server.shutdown()
        self.server.server_close()
