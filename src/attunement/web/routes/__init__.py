"""The routers of the web app, one module per topic.

Every module here that defines ``router`` (a :class:`fastapi.APIRouter`) is included by
:func:`attunement.web.create_app`, in module-name order; nothing else needs registering.
"""

__all__: list[str] = []
