# syntax=docker/dockerfile:1
# amount-updater: docker run -p 8000:8000 -e AMOUNT_UPDATER_STRIPE_SECRET_KEY=sk_test_... IMAGE
# (README, "Deployment": the catalog, token secret and return URL origins to pass as well.)

FROM python:3.11-slim AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
WORKDIR /src
RUN python -m venv /opt/venv
# The runtime dependencies exactly as locked (`make lock`): pinned versions, checked hashes.
# The build backend too, in a venv of its own that the image does not carry.
COPY requirements.lock build-requirements.lock ./
RUN /opt/venv/bin/pip install --require-hashes --no-deps -r requirements.lock
RUN python -m venv /opt/build \
    && /opt/build/bin/pip install --require-hashes --no-deps -r build-requirements.lock
# Then the service itself, built from this tree with that backend; it brings no dependency of
# its own.
COPY pyproject.toml README.md LICENSE ./
COPY src ./src
RUN /opt/build/bin/pip wheel --no-deps --no-build-isolation -w /wheels . \
    && /opt/venv/bin/pip install --no-deps /wheels/amount_updater-*.whl \
    && /opt/venv/bin/python -m compileall -q /opt/venv

FROM python:3.11-slim AS runtime
ENV PATH=/opt/venv/bin:$PATH PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1
RUN groupadd --system app && useradd --system --gid app --no-create-home --home-dir /nonexistent app
COPY --from=build /opt/venv /opt/venv
USER app
WORKDIR /tmp
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2)"]
CMD ["amount-updater", "serve", "--host", "0.0.0.0", "--port", "8000"]
