# The validator image (docs/docker-compose.md): fedledger from the lock file, run as a non-root
# user. `docker compose` builds it; the compose file passes each organisation's configuration.

# Build: every locked dependency (dev included, for the gRPC code generator), then the project.
FROM python:3.11-slim-bookworm AS build
COPY --from=ghcr.io/astral-sh/uv:0.13.9 /uv /usr/local/bin/uv
ENV UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy UV_PYTHON_DOWNLOADS=never
WORKDIR /app
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --locked --no-install-project
COPY src ./src
RUN uv run --no-sync python src/fedledger/validator/codegen.py \
    && uv sync --locked --no-dev

# Run: the environment without the dev dependencies, and the sources it points at.
FROM python:3.11-slim-bookworm
RUN useradd --system --uid 10001 --create-home fedledger
WORKDIR /app
COPY --from=build /app /app
ENV PATH=/app/.venv/bin:$PATH PYTHONUNBUFFERED=1
USER fedledger
# The validator's own gRPC health service, over its mutual TLS, as its organisation's client.
HEALTHCHECK --interval=10s --timeout=5s --start-period=60s --retries=3 \
    CMD ["sh", "-c", "fedledger validator health --config \"$FEDLEDGER_VALIDATOR_CONFIG\""]
CMD ["sh", "-c", "exec fedledger validator serve --config \"$FEDLEDGER_VALIDATOR_CONFIG\""]
