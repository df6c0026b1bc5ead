# LegDay's Discord bot. Build: docker build -t legday .
# Run:   docker run -d --env-file .env -v legday-data:/data --name legday legday
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
RUN useradd --create-home --uid 10001 legday

# Installed as a package from pyproject.toml (`make run` does the same into .venv); rules and templates are data the
# settings point at, so they are copied next to the code rather than packaged.
COPY pyproject.toml README.md ./
COPY bot ./bot
RUN pip install .
COPY rules ./rules
COPY templates ./templates

# MPLCONFIGDIR: matplotlib (the /progress chart) keeps its font cache there instead of rebuilding it.
ENV DATA_DIR=/data \
    RULES_DIR=/app/rules \
    TEMPLATES_DIR=/app/templates \
    MPLCONFIGDIR=/data/.matplotlib
RUN mkdir -p /data && chown legday:legday /data
VOLUME ["/data"]

USER legday

# The bot touches /data/heartbeat (heartbeat-<cluster> with CLUSTER_INDEX set; HEARTBEAT_NAME says
# which) every 30 s while it is connected to Discord; a file older than two minutes (or missing)
# means the process is stuck or disconnected, not merely alive.
HEALTHCHECK --interval=60s --timeout=5s --start-period=90s --retries=3 \
  CMD python -c "import os,sys,time; p=os.path.join(os.environ.get('DATA_DIR','/data'),os.environ.get('HEARTBEAT_NAME','heartbeat')); sys.exit(0 if time.time()-os.path.getmtime(p)<120 else 1)"

# `docker stop` sends SIGTERM; the bot closes its connection and flushes storage before exiting.
STOPSIGNAL SIGTERM
CMD ["python", "-m", "bot", "run"]
