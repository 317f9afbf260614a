"""RagService.upload is the one way in for uploads: the API and the UI both call it, so a hostile file gets
the same checks, the same sentence and the same folder whichever front end it came through."""

from __future__ import annotations

import gradio as gr
import pytest
from fastapi.testclient import TestClient

from rag.service import RagService

ELF = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 64
GOOD = b"A ferry resumed its crossing to the island on Monday."


def api_client(fake_settings, service: RagService) -> TestClient:
    from app import create_app

    return TestClient(create_app(fake_settings, service))


def ui_upload_handler(service: RagService):
    """The function the Library tab's file box runs on upload, found by its event wiring."""
    from rag.ui import build_ui

    blocks = build_ui(service)
    (box,) = [block for block in blocks.blocks.values() if isinstance(block, gr.File) and block.interactive is not False
              and (block.label or "").startswith("Add articles")]
    (handler,) = [fn for fn in blocks.fns.values() if (box._id, "upload") in fn.targets]
    return handler.fn


def spy_on_upload(service: RagService, monkeypatch) -> list[str]:
    """Record the names each call of service.upload receives, and still run the real method."""
    names: list[str] = []
    real = service.upload

    def upload(files, progress=None):
        def recorded():
            for name, content in files:
                names.append(name)
                yield name, content
        return real(recorded(), progress=progress)

    monkeypatch.setattr(service, "upload", upload)
    return names


def test_ui_upload_handler_calls_the_service_upload(fake_settings, tmp_path, monkeypatch):
    service = RagService(fake_settings)
    names = spy_on_upload(service, monkeypatch)
    received = tmp_path / "gradio-cache"  # where Gradio keeps what the browser sent, under the sender's base name
    received.mkdir()
    (received / "evil.txt").write_bytes(ELF)
    (received / "story.txt").write_bytes(GOOD)
    _, shown = ui_upload_handler(service)([str(received / "evil.txt"), str(received / "story.txt")],
                                          progress=lambda *args, **kwargs: None)
    assert names == ["evil.txt", "story.txt"], "the UI stored uploads without going through RagService.upload"
    assert "- evil.txt: evil.txt looks like a binary file, not text." in shown.splitlines()
    assert [d["id"] for d in service.documents()] == ["story"]
    written = [p for p in (fake_settings.data_dir / "uploads").rglob("*") if p.is_file()]
    assert [p.name for p in written] == ["story.txt"]  # copied into the data directory, as an API upload is


def test_ui_refuses_a_hostile_file_with_the_apis_sentence(fake_settings, tmp_path):
    service = RagService(fake_settings)
    api = api_client(fake_settings, service).post("/v1/documents", files=[("files", ("../../evil.txt", ELF, "text/plain"))])
    assert api.status_code == 415
    sentence = api.json()["error"]["message"]
    received = tmp_path / "gradio-cache"
    received.mkdir()
    (received / "evil.txt").write_bytes(ELF)
    _, shown = ui_upload_handler(service)([str(received / "evil.txt")], progress=lambda *args, **kwargs: None)
    assert shown.splitlines() == ["added 0, updated 0, unchanged 0, duplicates 0, failed 1", f"- evil.txt: {sentence}"]
    assert service.documents() == [] and not list((fake_settings.data_dir / "uploads").rglob("*.txt"))


# --- the service method itself ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, data, sentence",
    [
        ("../../evil.exe", b"MZ\x90\x00", "evil.exe has an unsupported type (supported: .txt, .md, .markdown, .html, "
                                            ".htm, .pdf, .jsonl, .json, .rss, .atom, .xml)."),
        ("..\\..\\evil.html", ELF, "evil.html looks like a binary file, not text."),
        ("report.pdf", b"<html>not a pdf</html>", "report.pdf does not start with %PDF-, so it is not a PDF."),
    ],
)
def test_upload_refused_for_its_type_writes_nothing(fake_service, fake_settings, name, data, sentence):
    result = fake_service.upload([(name, data)])
    assert result.refused_for_type is not None and result.refused_for_type.sentence == sentence
    assert result.report["failed"] == [{"path": sentence.split(" ", 1)[0], "error": sentence}]
    assert not result.stored_any and fake_service.documents() == []
    assert not (fake_settings.data_dir / "uploads").exists()
    assert not [p for p in fake_settings.data_dir.parent.rglob("evil*")]


def test_upload_reads_a_stream_no_further_than_one_byte_over_the_limit(fake_settings):
    service = RagService(fake_settings.model_copy(update={"max_file_mb": 0.001}))

    class Stream:
        asked: list[int] = []

        def read(self, size=-1):
            self.asked.append(size)
            return b"x" * (size if size > 0 else 10**7)

    result = service.upload([("big.txt", Stream())])
    assert Stream.asked == [1001]
    assert result.report["failed"] == [{"path": "big.txt", "error": "big.txt is over the 0.001 MB upload limit."}]
    assert result.refused_for_type is None and not result.stored_any  # too big is not the wrong type: 422, not 415


def test_a_refusal_beside_a_stored_file_is_no_refusal_of_the_upload(fake_service):
    result = fake_service.upload([("evil.txt", ELF), ("story.txt", GOOD)])
    assert result.refused_for_type is None and result.stored_any
    assert [f["path"] for f in result.report["failed"]] == ["evil.txt"]


def test_a_file_the_loader_refuses_is_reported_without_the_storage_path(fake_service, fake_settings):
    result = fake_service.upload([("../empty.txt", b""), ("story.txt", GOOD)])
    assert result.report["failed"] == [{"path": "empty.txt", "error": "empty.txt is empty."}]
    assert str(fake_settings.data_dir) not in str(result.report["failed"])


# --- the pure checks, at their edges ----------------------------------------------------------------

@pytest.mark.parametrize("given, safe", [
    ("../../evil.txt", "evil.txt"),
    ("notes .", "notes"),  # spaces and dots at the ends go: "notes ." would name no type
    (" .hidden.md", "hidden.md"),
    ("a/b\\c\x00d.txt", "c_d.txt"),  # any separator is a directory; a control character becomes "_"
    ("...", "upload"),  # nothing left: a fixed name
    ("Xray scan X.txt", "Xray scan X.txt"),  # only spaces and dots are trimmed
    ("x" * 150 + ".markdown", "x" * 100 + ".markdown"),  # the stem is cut to 100, the type kept
    ("report." + "m" * 30, "report." + "m" * 19),  # a suffix keeps at most 20 characters, its dot included
])
def test_safe_filename(given, safe):
    from rag.uploads import safe_filename

    assert safe_filename(given) == safe


def test_the_size_limit_is_in_bytes_and_a_file_at_the_limit_passes():
    from rag.uploads import content_refusal, limit_bytes

    assert limit_bytes(1) == 1_000_000 and limit_bytes(0.5) == 500_000
    at_limit = b"a" * limit_bytes(0.001)
    assert content_refusal("at.txt", at_limit, 0.001) is None
    over = content_refusal("over.txt", at_limit + b"a", 0.001)
    assert over is not None and over.sentence == "over.txt is over the 0.001 MB upload limit." and not over.wrong_type


def test_a_page_load_lists_the_articles_once_and_takes_the_outlets_from_the_store(fake_service, tmp_path, monkeypatch):
    """Listing every article takes 22 s at 59,000 of them: the outlet menu must not list them a second time."""
    from rag.ui import build_ui

    (tmp_path / "feed.jsonl").write_text(
        '{"id": "p1", "title": "Dock strike", "text": "Dock workers walked out at dawn.", "source": "Port Gazette"}\n'
        '{"id": "p2", "title": "Canal reopens", "text": "The canal reopened after dredging.", "source": "Barge Weekly"}\n')
    fake_service.ingest([tmp_path / "feed.jsonl"])
    blocks = build_ui(fake_service)
    (load,) = [fn for fn in blocks.fns.values() if any(event == "load" for _, event in fn.targets)]
    listed = []
    real = fake_service.documents
    monkeypatch.setattr(fake_service, "documents", lambda: listed.append(1) or real())
    menu, table = load.fn()
    assert menu.choices == [("Barge Weekly", "Barge Weekly"), ("Port Gazette", "Port Gazette")]
    assert len(table) == 2 and len(listed) == 1
