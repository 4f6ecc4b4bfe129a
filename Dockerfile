# The gateway image: `contactgraph serve` on port 8000 against MONGODB_URI (a replica set;
# see compose.yaml). Dependencies come from uv.lock, without the dev tools or the embedded
# database.
FROM python:3.11-slim AS build
RUN pip install --no-cache-dir uv==0.13.9
WORKDIR /src
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --locked --no-dev --no-install-project --extra otel --python /usr/local/bin/python3
COPY app ./app
RUN uv sync --locked --no-dev --extra otel --python /usr/local/bin/python3

FROM python:3.11-slim
RUN useradd --create-home --uid 10001 contactgraph
COPY --from=build /src /src
ENV PATH="/src/.venv/bin:$PATH" \
    CONTACTGRAPH_ENV=production \
    CONTACTGRAPH_HOST=0.0.0.0 \
    CONTACTGRAPH_PORT=8000
USER contactgraph
WORKDIR /src
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz').status != 200)"
CMD ["contactgraph", "serve"]
