"""Composition root: Settings -> RagService -> the front end.

Until the web app lands, `python app.py` ingests the sample corpus into an empty store and opens the
interactive search prompt.
"""

from __future__ import annotations

from pathlib import Path

SAMPLE_CORPUS = Path(__file__).resolve().parent / "data"


def main() -> None:
    from rag.cli import app, run_ingest
    from rag.config import Settings
    from rag.service import RagService

    service = RagService(Settings())
    if service.is_empty():
        report = run_ingest(service, [SAMPLE_CORPUS])
        print(f"Ingested the sample corpus: {report.added} articles, {report.passages} passages.")
    app(["shell"])


if __name__ == "__main__":
    main()
