# syntax=docker/dockerfile:1
# hearth: slim, non-root image; state lives in the /data volume (SQLite, memory, skills, workspace).
#   docker build -t hearth .
#   docker run --env-file .env -v hearth-data:/data -p 127.0.0.1:8080:8080 \
#     --security-opt seccomp=unconfined --security-opt apparmor=unconfined hearth
ARG PYTHON_VERSION=3.11

# ---- build: compile/install every dependency into a venv that is copied as a whole ----------
FROM python:${PYTHON_VERSION}-slim AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
# Compilers only here: a dependency without a wheel for this platform (e.g. chroma-hnswlib on
# some architectures) builds from source without bloating the final image.
RUN apt-get update \
 && apt-get install -y --no-install-recommends build-essential \
 && rm -rf /var/lib/apt/lists/*
RUN python -m venv /opt/hearth
ENV PATH=/opt/hearth/bin:$PATH
WORKDIR /src
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY core ./core
COPY adapters ./adapters
COPY skills ./skills
COPY bench ./bench
RUN pip install . \
 && find /opt/hearth -name '__pycache__' -prune -exec rm -rf {} +

# ---- runtime ------------------------------------------------------------------------------
FROM python:${PYTHON_VERSION}-slim
# tini: PID 1 that forwards SIGTERM so hearth's graceful shutdown runs (tasks told, DB closed).
# curl: the HEALTHCHECK. git, procps: what the shell tool and heartbeat probes commonly need.
# bubblewrap: the sandbox for every command that runs without a human's approval (it needs the
# compose file's security_opt to create user namespaces; `hearth doctor` says if it works).
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini ca-certificates curl git procps bubblewrap \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 hearth \
 && useradd --system --uid 10001 --gid hearth --home-dir /data --no-create-home \
        --shell /usr/sbin/nologin hearth \
 && mkdir -p /data \
 && chown hearth:hearth /data
COPY --from=build /opt/hearth /opt/hearth
ENV PATH=/opt/hearth/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    HEARTH_DATA_DIR=/data \
    HEALTH_ADDR=0.0.0.0:8080 \
    LOG_FORMAT=json
WORKDIR /data
USER hearth:hearth
VOLUME ["/data"]
EXPOSE 8080
# /healthz is 200 only when the database is open and every configured platform is connected.
HEALTHCHECK --interval=30s --timeout=5s --start-period=40s --retries=3 \
    CMD curl -fsS http://127.0.0.1:8080/healthz || exit 1
ENTRYPOINT ["tini", "--", "hearth"]
CMD ["run"]
