# syntax=docker/dockerfile:1
# The bus, production shape: a virtualenv built in one stage, run as a non-root user in the next.
FROM python:3.11-slim-bookworm AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
RUN python -m venv /opt/lgsp
COPY pyproject.toml README.md ./
COPY lgsp ./lgsp
COPY adapters ./adapters
RUN /opt/lgsp/bin/pip install .

FROM python:3.11-slim-bookworm
RUN useradd --system --uid 10001 --user-group --home-dir /srv/lgsp --no-create-home lgsp
COPY --from=build /opt/lgsp /opt/lgsp
WORKDIR /srv/lgsp
COPY schemas ./schemas
COPY config ./config
# The routing table lives in a folder of its own that the bus may write: the admin API replaces the
# file atomically (a temporary file renamed in the same folder). A volume there starts with this copy.
COPY --chown=lgsp:lgsp routes.yaml ./routes/routes.yaml
RUN mkdir var && chown lgsp:lgsp var routes
USER lgsp
ENV PATH=/opt/lgsp/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    LGSP_CONFIG=/srv/lgsp/config/lgsp.yaml \
    LGSP_ROUTES__FILE=/srv/lgsp/routes/routes.yaml \
    LGSP_HTTP__HOST=0.0.0.0
EXPOSE 8080
VOLUME ["/srv/lgsp/var", "/srv/lgsp/routes"]
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
  CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/readyz', timeout=2)"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["lgsp"]
CMD ["serve"]
