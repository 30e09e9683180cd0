# The production image: web (gunicorn), worker and beat all run from it.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 BROWSER_PATH=/usr/bin/chromium
# Chromium renders memo-ready chart exports (Kaleido); fonts for offline text.
RUN apt-get update \
    && apt-get install -y --no-install-recommends chromium fonts-dejavu-core fonts-liberation \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY pyproject.toml README.md ./
COPY moatapp moatapp
COPY assessments assessments
RUN pip install --no-cache-dir .
COPY . .
RUN useradd --create-home --uid 1000 moat && mkdir -p var && chown -R moat var
USER moat
RUN SECRET_KEY=build-only-collectstatic-key-0123456789abcdef python manage.py collectstatic --noinput

EXPOSE 8000
CMD ["gunicorn", "moatapp.wsgi:application", "--config", "moatapp/gunicorn.conf.py"]
