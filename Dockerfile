# One image for every LibDesk process: web (Daphne), pages (Gunicorn), Celery worker and beat.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app
COPY pyproject.toml README.md ./
RUN pip install --upgrade pip && pip install -e ".[production]"
COPY . .
# (.dockerignore keeps .env, .venv and var/ out of the image.)
# The translations compiled (pure Python, polib): locale/*.po → .mo.
RUN python manage.py compile_catalogs
# collectstatic needs no database; the manifest storage is on in production mode.
RUN DATABASE_URL=postgres://build@localhost/build REDIS_URL=redis://localhost:6379/0 \
    SECRET_KEY=build-only STATIC_ROOT=/app/staticfiles python manage.py collectstatic --noinput -v0
RUN useradd --system --home /app libdesk && mkdir -p /app/var && chown -R libdesk /app/var
USER libdesk
EXPOSE 8000
# No --proxy-headers: libdesk.proxy finds the patron's address (TRUSTED_PROXIES).
# libdesk.run_daphne: Daphne on uvloop (EVENT_LOOP).
CMD ["python", "-m", "libdesk.run_daphne", "-b", "0.0.0.0", "-p", "8000", "libdesk.asgi:application"]
