# The service as deployed: a wheel (design documents and dashboard files inside), installed
# into a clean image; nothing runs from a source tree.
FROM python:3.11-slim AS wheel
WORKDIR /src
COPY pyproject.toml README.md ./
COPY app ./app
COPY couch_design_docs ./couch_design_docs
RUN pip wheel --no-cache-dir --no-deps -w /dist .

FROM python:3.11-slim
COPY --from=wheel /dist /dist
RUN pip install --no-cache-dir /dist/*.whl && rm -rf /dist && useradd -r -m qubicle
USER qubicle
WORKDIR /home/qubicle
EXPOSE 8000
# /health/live: the process answers; /health/ready (docker-compose.yml): CouchDB answers too
HEALTHCHECK --interval=10s --timeout=3s --retries=3 \
  CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health/live', timeout=2)"]
CMD ["qubicle-reports", "serve", "--host", "0.0.0.0", "--port", "8000"]
