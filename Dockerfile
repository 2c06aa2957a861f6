# One image for every Hotline process: the API (uvicorn), RQ workers and the one-off migration.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# Dependencies first, so a code change does not reinstall them.
COPY pyproject.toml README.md ./
COPY hotline/__init__.py hotline/__init__.py
COPY ivr/__init__.py ivr/__init__.py
COPY routing/__init__.py routing/__init__.py
COPY crm/__init__.py crm/__init__.py
COPY recordings/__init__.py recordings/__init__.py
COPY simulator/__init__.py simulator/__init__.py
RUN pip install -e .

# Editable install on purpose: migrations/ and the YAML configuration are read from /app.
COPY . .
RUN useradd --system --uid 10001 --home-dir /app hotline \
    && mkdir -p /var/lib/hotline/recordings \
    && chown -R hotline /var/lib/hotline
USER hotline

EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
    CMD ["hotline", "check", "api"]
CMD ["hotline", "api", "--host", "0.0.0.0", "--port", "8000", "--workers", "4"]
