"""One router per actor; ROUTERS is the list the app mounts."""

from . import auth, public

ROUTERS = [auth.router, public.router]
