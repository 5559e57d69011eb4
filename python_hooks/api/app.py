"""The read API's app: FastAPI over the published release, read-only (``precompute serve``).

A thin layer: every endpoint (routes.py) validates its parameters, binds them into
one of the release's compiled queries and shapes the rows into a response model
(schemas.py); the answer functions are in answers.py, the release reader in
reader.py. ``precompute run`` compiles the dbt analyses against the build and
stores the compiled SQL in the release it publishes, so the server runs exactly
the SQL compiled with the tables it reads.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from python_hooks.api.answers import default_view
from python_hooks.api.reader import ReleaseReader
from python_hooks.api.routes import STATIC_DIR, api, page


def create_app(warehouse: Path, warm: bool = True) -> FastAPI:
    """The read API over the release published at ``warehouse`` (a symlink swapped by ``precompute run``).

    ``warm``: build each new release's default view (the page's first view) in the background.
    """
    reader = ReleaseReader(Path(warehouse), warm_view=default_view if warm else None)
    app = FastAPI(
        title="ad-precompute read API",
        description="Pre-computed ad dashboard metrics of the published release (docs/metrics.md §5, §8). "
                    "Metric fields carry the marts' column names (GET /api/catalogue lists them); "
                    "range totals follow docs/metrics.md §8.",
        version="1",
    )
    app.state.reader = reader
    app.include_router(api)
    app.include_router(page)
    app.mount("/static", StaticFiles(directory=STATIC_DIR, check_dir=False), name="static")
    app.router.on_shutdown.append(reader.close)
    return app


def serve(warehouse: Path, host: str = "127.0.0.1", port: int = 8000) -> None:
    """Run the API under uvicorn (``precompute serve``); httptools and uvloop when installed."""
    import uvicorn

    uvicorn.run(create_app(warehouse), host=host, port=port, log_level="info")
