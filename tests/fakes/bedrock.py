"""A fake Amazon Bedrock runtime for Claude: POST /model/{modelId}/invoke, as the Anthropic SDK's Bedrock client
calls it (anthropic/lib/bedrock/_client.py) and Bedrock documents it
(https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_InvokeModel.html,
https://docs.aws.amazon.com/bedrock/latest/userguide/model-parameters-anthropic-claude-messages.html).

- Authentication: AWS Signature Version 4 for service "bedrock" in the fake's region, verified with the access
  key's secret (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html;
  the signature is recomputed with botocore from the signed headers the request names), or a Bedrock API key as
  `Authorization: Bearer` (https://docs.aws.amazon.com/bedrock/latest/userguide/api-keys.html).
- The body is the Messages API's without `model` (the path names it) and with `anthropic_version`.
- Model ids: anthropic.claude-… and the inference profiles us./eu./apac./global.anthropic.claude-…; another id is a
  400 ValidationException. Errors are Bedrock's: {"message": …} with x-amzn-ErrorType.
Everything else (thinking, caching, the tool loop) is FakeAnthropic's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote

from aiohttp import web
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from tests.fakes.anthropic import FakeAnthropic, ModelRequest

ACCESS_KEY = "AKIAFAKEBEDROCK00001"
SECRET_KEY = "fake-bedrock-secret-access-key-000000000001"
REGION = "us-east-1"
_PROFILE = re.compile(r"^(?:(?:us|eu|apac|global)\.)?anthropic\.(?P<model>claude-[a-z0-9-]+?)(?:-v\d+(?::\d+)?)?$")
_AUTH = re.compile(
    r"AWS4-HMAC-SHA256 Credential=(?P<cred>[^,]+), SignedHeaders=(?P<signed>[^,]+), Signature=(?P<sig>\w+)"
)
_KINDS = {400: "ValidationException", 403: "AccessDeniedException", 404: "ResourceNotFoundException",
          429: "ThrottlingException", 500: "InternalServerException", 529: "ServiceUnavailableException"}  # fmt: skip


@dataclass
class FakeBedrock(FakeAnthropic):
    access_key: str = ACCESS_KEY
    secret_key: str = SECRET_KEY
    region: str = REGION
    api_key: str = "bedrock-api-key-fake-0000000001"  # a Bedrock API key, sent as a bearer token

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/model/{model_id}/invoke", self._invoke)

    async def _invoke(self, request: web.Request) -> web.Response:
        model_id = unquote(request.match_info["model_id"])
        found = _PROFILE.match(model_id)
        record = await self.receive(request, {"model": found["model"] if found else model_id})
        if problem := self._refused(request, record):
            return self._error(record, 403, "access_denied", problem)
        if record.body.get("anthropic_version") is None:
            return self._error(record, 400, "validation", "anthropic_version: field required")
        if found is None:
            return self._error(record, 400, "validation", "The provided model identifier is invalid.")
        return self.answer(record)

    def _refused(self, request: web.Request, record: ModelRequest) -> str | None:
        auth = request.headers.get("Authorization", "")
        if auth.startswith("Bearer "):
            return None if auth[7:] == self.api_key else "Invalid API Key format: Must start with pre-defined prefix"
        parsed = _AUTH.fullmatch(auth)
        if parsed is None:
            return "Missing Authentication Token"
        key, day, region, service, _ = parsed["cred"].split("/")
        if key != self.access_key:
            return "The security token included in the request is invalid."
        if (region, service) != (self.region, "bedrock"):
            return f"Credential should be scoped to a valid region ({self.region}) and service (bedrock)."
        signed = parsed["signed"].split(";")
        headers = {name: request.headers.get(name, "") for name in signed}
        # exactly the headers the client says it signed: the signature is recomputed over those
        aws = AWSRequest(method=request.method, url=f"http://{request.host}{request.raw_path}", data=record.raw)
        for name, value in headers.items():
            aws.headers[name] = value
        stamp = request.headers.get("X-Amz-Date", "")
        if not stamp.startswith(day):
            return "Signature date does not match the credential scope."
        aws.context["timestamp"] = stamp
        token = request.headers.get("X-Amz-Security-Token")
        signer = SigV4Auth(Credentials(key, self.secret_key, token), "bedrock", region)
        expected = signer.signature(signer.string_to_sign(aws, signer.canonical_request(aws)), aws)
        if expected != parsed["sig"]:
            return "The request signature we calculated does not match the signature you provided."
        return None

    def _error(self, record: ModelRequest, status: int, kind: str, message: str) -> web.Response:
        record.status, record.error = status, message
        error_type = _KINDS.get(status, "InternalServerException")
        return web.json_response({"message": message}, status=status, headers={"x-amzn-ErrorType": error_type})
