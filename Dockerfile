FROM python:3.11-slim
WORKDIR /srv
COPY pyproject.toml README.md ./
COPY app ./app
COPY couch_design_docs ./couch_design_docs
RUN pip install --no-cache-dir -e . && useradd -r qubicle
USER qubicle
ENV QUBICLE_REPORTS_DESIGN_DOCS=/srv/couch_design_docs
EXPOSE 8000
CMD ["qubicle-reports", "serve", "--host", "0.0.0.0", "--port", "8000"]
