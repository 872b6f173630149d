"""WSGI entry point for production servers: ``gunicorn 'bot.wsgi:application'``.

Importing this module builds the app from the environment (that is its job).
"""

from .run import create_app_from_env, make_wsgi_app

_app, services = create_app_from_env(socket=False)
application = make_wsgi_app(_app)
