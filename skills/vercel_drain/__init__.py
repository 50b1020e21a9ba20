"""The Vercel log-drain relay: Vercel's drain (JSON array or NDJSON, signed) in, Loki push JSON out.

`translate` turns a drain body into Loki lines with a few low-cardinality labels, `relay` queues, batches and
pushes them (spilling to the database while Loki refuses), `readiness` tells which setup step is next.
The HTTP route that receives the drain is bot/drain.py.
"""

from skills.vercel_drain.config import DrainConfig, drain_url, load_config
from skills.vercel_drain.relay import Relay, RelayLimits

__all__ = ["DrainConfig", "Relay", "RelayLimits", "drain_url", "load_config"]
