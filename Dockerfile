# Cooperation Watcher container: the same install and entry command as `make run`, as a non-root user.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 WATCHER_CONFIG=/app/config/watcher.yaml
RUN useradd --create-home --uid 10001 watcher
WORKDIR /app
COPY pyproject.toml README.md ./
COPY watcher ./watcher
RUN pip install --no-cache-dir .
COPY config ./config
COPY seeds ./seeds

# The working directory holds ./data (the SQLite default) and sees the bundled seeds.
RUN mkdir -p /data && ln -s /app/seeds /data/seeds && chown -R watcher /data
WORKDIR /data
VOLUME /data
USER watcher
EXPOSE 8080
ENTRYPOINT ["watcher"]
CMD ["run", "--http", "0.0.0.0:8080"]
