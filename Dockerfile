# sitrep's container image (docs/deploy.md). Build: `docker build -t sitrep .`
#
# - dependencies from requirements.lock (every version pinned, hashes checked) into a venv in the build stage,
#   copied into the final stage with the code (compiled there, so nothing is written at run time);
# - runs as an unprivileged user (uid 10001), `python app.py` in exec form;
# - every write goes to /data, meant as a volume: the SQLite file and the key generated beside it
#   (SITREP_DB=/data/sitrep.db, so the key is /data/sitrep.db.key), so the root filesystem can be read-only;
# - listens on 0.0.0.0:3000: /healthz (the HEALTHCHECK), /readyz, /metrics, the webhooks and the drain.
#
# tests/e2e/test_image_start.py installs and starts the app the way this file does (no Docker needed).

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
RUN python -m venv /opt/venv
COPY requirements.lock /tmp/requirements.lock
RUN /opt/venv/bin/pip install --no-cache-dir --require-hashes --no-deps -r /tmp/requirements.lock
WORKDIR /app
COPY . /app
RUN /opt/venv/bin/python -m compileall -q /app

FROM ${PYTHON_IMAGE}
RUN groupadd --system --gid 10001 sitrep \
    && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin sitrep \
    && mkdir /data \
    && chown 10001:10001 /data \
    && chmod 0700 /data
COPY --from=build /opt/venv /opt/venv
COPY --from=build /app /app
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    SITREP_DB=/data/sitrep.db \
    SITREP_HTTP_HOST=0.0.0.0 \
    SITREP_HTTP_PORT=3000
WORKDIR /app
USER 10001:10001
VOLUME ["/data"]
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 CMD ["python", "scripts/healthcheck.py"]
ENTRYPOINT ["python", "app.py"]
