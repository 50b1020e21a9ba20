"""A fake Google Vertex AI for Claude, and the OAuth 2.0 token endpoint its credentials come from.

- POST /v1/projects/{project}/locations/{region}/publishers/anthropic/models/{model}:rawPredict, as the Anthropic
  SDK's Vertex client calls it (anthropic/lib/vertex/_client.py) and Google documents it
  (https://cloud.google.com/vertex-ai/generative-ai/docs/partner-models/claude/use-claude): `Authorization: Bearer`
  with an access token this fake issued, the body the Messages API's without `model` and with
  `anthropic_version`. Model ids: claude-… with an optional @version. Errors are Google's: {"error": {"code",
  "message", "status"}}.
- POST /token: a service account's JWT-bearer grant (https://developers.google.com/identity/protocols/oauth2/
  service-account#httprest): an RS256 assertion signed with the account's private key, checked with its public
  key, for the cloud-platform scope; answers {"access_token", "expires_in", "token_type"}.
`service_account_file()` writes the key file GOOGLE_APPLICATION_CREDENTIALS points at, its token_uri this fake.
Everything else (thinking, caching, the tool loop) is FakeAnthropic's.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote

import jwt
from aiohttp import web
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.fakes.anthropic import FakeAnthropic, ModelRequest

PROJECT = "sitrep-fake-project"
REGION = "us-east5"
CLIENT_EMAIL = f"sitrep@{PROJECT}.iam.gserviceaccount.com"
SCOPE = "https://www.googleapis.com/auth/cloud-platform"
GOOGLE_TOKEN_AUDIENCE = "https://oauth2.googleapis.com/token"  # a service account's assertion names this audience
_STATUS = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED", 404: "NOT_FOUND",
           429: "RESOURCE_EXHAUSTED", 529: "UNAVAILABLE"}  # fmt: skip


@dataclass
class FakeVertex(FakeAnthropic):
    project: str = PROJECT
    region: str = REGION
    tokens_issued: list[str] = field(default_factory=list)
    grants: list[dict[str, str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__post_init__()
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/token", self._token)
        app.router.add_post(
            "/v1/projects/{project}/locations/{region}/publishers/anthropic/models/{model_call}", self._predict
        )

    def service_account_file(self, directory: Path) -> Path:
        pem = self.key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode()
        info = {
            "type": "service_account",
            "project_id": self.project,
            "private_key_id": "fake-key-1",
            "private_key": pem,
            "client_email": CLIENT_EMAIL,
            "client_id": "100000000000000000001",
            "token_uri": f"{self.url}/token",
        }
        path = directory / "service-account.json"
        path.write_text(json.dumps(info))
        return path

    async def _token(self, request: web.Request) -> web.Response:
        form = dict(await request.post())
        self.grants.append({k: str(v) for k, v in form.items()})
        if form.get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer":
            return web.json_response({"error": "unsupported_grant_type"}, status=400)
        try:
            claims = jwt.decode(
                str(form.get("assertion", "")),
                self.key.public_key(),
                algorithms=["RS256"],
                audience=GOOGLE_TOKEN_AUDIENCE,
                issuer=CLIENT_EMAIL,
            )
        except jwt.PyJWTError as exc:
            return web.json_response({"error": "invalid_grant", "error_description": str(exc)}, status=400)
        if SCOPE not in str(claims.get("scope", "")).split():
            return web.json_response({"error": "invalid_scope"}, status=400)
        token = "ya29.fake-" + secrets.token_urlsafe(24)
        self.tokens_issued.append(token)
        return web.json_response({"access_token": token, "expires_in": 3599, "token_type": "Bearer"})

    async def _predict(self, request: web.Request) -> web.Response:
        model, _, method = unquote(request.match_info["model_call"]).partition(":")
        record = await self.receive(request, {"model": model.partition("@")[0]})
        auth = request.headers.get("Authorization", "")
        if not auth.startswith("Bearer ") or auth[7:] not in self.tokens_issued:
            return self._error(record, 401, "unauthenticated", "Request had invalid authentication credentials.")
        where = (request.match_info["project"], request.match_info["region"])
        if where != (self.project, self.region) or method != "rawPredict":
            return self._error(record, 404, "not_found", f"Publisher model {request.path} was not found.")
        if record.body.get("anthropic_version") is None:
            return self._error(record, 400, "invalid_argument", "anthropic_version: field required")
        return self.answer(record)

    def _error(self, record: ModelRequest, status: int, kind: str, message: str) -> web.Response:
        record.status, record.error = status, message
        body = {"error": {"code": status, "message": message, "status": _STATUS.get(status, "INTERNAL")}}
        return web.json_response(body, status=status)
