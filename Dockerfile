# The service as deployed: a wheel (design documents and dashboard files inside), installed
# into a clean image; nothing runs from a source tree. `docker build .` builds it (the last
# stage); `--target devtools` builds the image of the demo's seed step (docker-compose.yml):
# the same wheel plus the development tooling of dev/, which the service's image never has.
FROM python:3.11-slim AS wheel
WORKDIR /src
COPY pyproject.toml README.md ./
COPY app ./app
COPY couch_design_docs ./couch_design_docs
RUN pip wheel --no-cache-dir --no-deps -w /dist .

# the development tooling (seed, demo) beside the service, both from this checkout
FROM python:3.11-slim AS devtools
COPY --from=wheel /dist /dist
COPY dev /src/dev
RUN pip install --no-cache-dir /dist/*.whl && pip install --no-cache-dir /src/dev \
  && rm -rf /dist /src && useradd -r -m qubicle
USER qubicle
WORKDIR /home/qubicle
CMD ["qubicle-reports", "seed", "--help"]

FROM python:3.11-slim AS service
COPY --from=wheel /dist /dist
RUN pip install --no-cache-dir /dist/*.whl && rm -rf /dist && useradd -r -m qubicle
USER qubicle
WORKDIR /home/qubicle
EXPOSE 8000
# /health/live: the process answers; /health/ready (docker-compose.yml): CouchDB answers too
HEALTHCHECK --interval=10s --timeout=3s --retries=3 \
  CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health/live', timeout=2)"]
CMD ["qubicle-reports", "serve", "--host", "0.0.0.0", "--port", "8000"]
