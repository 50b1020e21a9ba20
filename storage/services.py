"""Open the storage layer as one object: database, audit log, teams, credentials, jobs, replicas, Slack events,
the GitHub ledger, answers and threads, the drain inbox and spill, changes, report snapshots, alert
investigations, the Amplitude instrumentation pull requests, what integrations remember across restarts, the one
path config changes take (`config`, storage/config_changes.py), and the Slack outbox. Each store is built here,
once, with the audit log where it writes one."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from settings import Settings, StartupError
from storage.alerts import AlertStore
from storage.audit import AuditLog
from storage.changes import ChangeStore
from storage.config_changes import ConfigChanges, seed_report_jobs
from storage.conversations import ConversationStore
from storage.credentials import CredentialStore, load_or_create_key
from storage.db import Database, DatabaseUnavailable
from storage.drain import DrainStore
from storage.events import EventLedger
from storage.github import GitHubStore
from storage.instrumentation import InstrumentationStore
from storage.jobs import JobStore
from storage.outbox import OutboxStore
from storage.remembered import RememberedStore
from storage.replicas import ReplicaRegistry
from storage.report_snapshots import SnapshotStore
from storage.teams import TeamStore


@dataclass
class Storage:
    db: Database
    audit: AuditLog
    teams: TeamStore
    credentials: CredentialStore
    jobs: JobStore
    replicas: ReplicaRegistry
    events: EventLedger
    github: GitHubStore
    conversations: ConversationStore
    drain: DrainStore
    changes: ChangeStore
    snapshots: SnapshotStore
    alerts: AlertStore
    instrumentation: InstrumentationStore
    remembered: RememberedStore
    config: ConfigChanges
    outbox: OutboxStore

    async def integrations_version(self, team_id: str) -> str:
        """What a team's skills are built from, as one value that changes when any of it does: its stored
        credentials, its config, its GitHub installation link (skills/registry.py builds them again then)."""
        row = await self.db.fetchone(
            "SELECT (SELECT COUNT(*) || COALESCE(MAX(updated_at), '') FROM credentials WHERE team_id = ?) AS creds,"
            " (SELECT updated_at FROM teams WHERE id = ?) AS config,"
            " (SELECT COUNT(*) || COALESCE(MAX(linked_at), '') || COALESCE(CAST(SUM(suspended) AS TEXT), '')"
            " || COALESCE(CAST(MAX(installation_id) AS TEXT), '') FROM github_installations WHERE team_id = ?)"
            " AS github",
            (team_id, team_id, team_id),
        )
        raw = f"{row['creds']}|{row['config']}|{row['github']}" if row else ""
        return hashlib.sha256(raw.encode()).hexdigest()

    async def close(self) -> None:
        await self.db.close()


async def open_storage(settings: Settings) -> Storage:
    """Open and migrate the database, load the secret key and check it, and make sure the default team exists.

    Raises SecretKeyError with a clear message when the key is malformed or wrong.
    """
    sqlite = settings.db_backend == "sqlite"
    key, source = load_or_create_key(Settings.reveal(settings.secret_key), settings.key_file, create=sqlite)
    try:
        db = await Database.open(settings.database)
    except DatabaseUnavailable as exc:
        raise StartupError(f"SITREP_DB: {exc}") from None
    try:
        audit = AuditLog(db)
        credentials = CredentialStore(db, audit, key, source)
        await credentials.verify_key()
        teams = TeamStore(db, audit)
        team = await teams.ensure_default()
        jobs = JobStore(db, audit)
        await seed_report_jobs(jobs, team, settings)
    except BaseException:
        await db.close()
        raise
    replicas = ReplicaRegistry(db)
    changes = ChangeStore(db)
    events = EventLedger(db, replicas.id)
    return Storage(
        db=db,
        audit=audit,
        teams=teams,
        credentials=credentials,
        jobs=jobs,
        replicas=replicas,
        events=events,
        github=GitHubStore(db, audit, changes),
        conversations=ConversationStore(db),
        drain=DrainStore(db),
        changes=changes,
        snapshots=SnapshotStore(db),
        alerts=AlertStore(db),
        instrumentation=InstrumentationStore(db, audit),
        remembered=RememberedStore(db),
        config=ConfigChanges(db, audit, teams, jobs, settings),
        outbox=OutboxStore(db),
    )
