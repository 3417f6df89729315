# Cooperation Watcher container: `watcher run` as a non-root user, state under /data, health on :8080.
#   docker build -t cooperation-watcher .
#   docker run -v watcher-data:/data -p 127.0.0.1:8080:8080 -e SLACK_WEBHOOK_URL=... cooperation-watcher
# Configuration: the bundled /app/config/watcher.yaml, or mount your own there (or set WATCHER_CONFIG);
# secrets and the store URL come from the environment (${VAR} in the config). See deploy/README.md.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    WATCHER_CONFIG=/app/config/watcher.yaml \
    WATCHER_STORE_URL=sqlite:////data/watcher.db \
    WATCHER_HEALTH_URL=http://127.0.0.1:8080/healthz

RUN useradd --create-home --uid 10001 --user-group watcher

# Install the package the same way as `pip install .` anywhere else; the sources do not stay in the image.
WORKDIR /src
COPY pyproject.toml README.md ./
COPY watcher ./watcher
RUN pip install --no-cache-dir /src && rm -rf /src

# The working directory holds the config and the seeds (relative paths in the config resolve here);
# everything the daemon writes (SQLite database and its lock file) goes to the /data volume.
WORKDIR /app
COPY config ./config
COPY seeds ./seeds
RUN mkdir -p /data && chown watcher:watcher /data
VOLUME /data

USER watcher
EXPOSE 8080
# Python, not curl (the slim image has none): exit 0 only on 200 from /healthz (503 raises, so exit 1).
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, sys, urllib.request; sys.exit(0 if urllib.request.urlopen(os.environ.get('WATCHER_HEALTH_URL', 'http://127.0.0.1:8080/healthz'), timeout=4).status == 200 else 1)"]
# SIGTERM (docker stop) makes the daemon finish or release its work and exit within 10 s.
STOPSIGNAL SIGTERM
ENTRYPOINT ["watcher"]
CMD ["run", "--http", "0.0.0.0:8080"]
