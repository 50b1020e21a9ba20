"""The image's HEALTHCHECK: exit 0 when sitrep's /healthz answers 200 on SITREP_HTTP_PORT, else 1.

    python scripts/healthcheck.py

Standard library only, and it writes nothing: it runs in the read-only image as the same user as sitrep.
"""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request

TIMEOUT_S = 4.0


def main() -> int:
    port = os.environ.get("SITREP_HTTP_PORT", "").strip() or "3000"
    url = f"http://127.0.0.1:{port}/healthz"
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_S) as response:
            ok = response.status == 200
    except (urllib.error.URLError, OSError) as exc:
        print(f"healthcheck: {url}: {exc}", file=sys.stderr)
        return 1
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
