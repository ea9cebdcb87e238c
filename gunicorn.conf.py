"""gunicorn reads this file from the folder it starts in: the deploy units and `make bench`
start it in the project's folder. The settings are in the package, so that an installed
wheel has them too: ``gunicorn -c python:portal.gunicorn_config 'portal:create_app()'``."""

from portal.gunicorn_config import on_starting, post_worker_init

__all__ = ["on_starting", "post_worker_init"]
