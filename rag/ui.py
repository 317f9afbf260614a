"""Gradio UI: chat with streaming, verified answers and source cards; filters; a Library tab.

Thin: every action calls RagService. Article text is always HTML-escaped before it is shown, and the
chat renders no HTML or Markdown links from answers, so text from articles never becomes active content.
"""

from __future__ import annotations

import html
from pathlib import Path

import gradio as gr

from rag.briefing import coverage_line
from rag.service import RagService


def source_cards(answer_json: dict, service: RagService) -> str:
    """HTML cards for an answer's citations: title, outlet, date, and the quote highlighted in its passage.
    Each card expands to the full article text. Everything from articles is escaped."""
    if answer_json.get("abstained"):
        return "<p class='nr-empty'>No sources: the archive does not answer this.</p>"
    cards = []
    for citation in answer_json.get("citations", []):
        text, quote = citation["text"], citation["quote"]
        at = text.find(quote) if quote else -1
        if at >= 0:
            passage = (html.escape(text[:at]) + "<mark>" + html.escape(quote) + "</mark>"
                       + html.escape(text[at + len(quote):]))
        else:
            passage = html.escape(text)
        article = service.article(citation["article_id"]) or {}
        cards.append(
            "<div class='nr-card' data-testid='source-card'>"
            f"<div class='nr-card-head'><b>[{citation['n']}] {html.escape(citation['title'] or '')}</b>"
            f"<span> — {html.escape(citation['source'] or 'unknown outlet')}, {html.escape(citation['date'] or 'undated')}</span>"
            + (f"<span class='nr-carried'> · also carried by {int(citation['also_carried_by'])} outlet"
               f"{'s' if citation['also_carried_by'] != 1 else ''}</span>" if citation.get("also_carried_by") else "")
            + "</div>"
            f"<p class='nr-passage'>{passage}</p>"
            f"<details><summary>Open the full article ({html.escape(citation['article_id'])})</summary>"
            f"<pre class='nr-article'>{html.escape(article.get('raw_text') or article.get('text') or '')}</pre></details>"
            "</div>"
        )
    return "\n".join(cards)


def briefing_to_html(data: dict) -> str:
    """A briefing as HTML; every sentence is escaped, and each citation number links to its source."""
    numbers = {s["article_id"]: n for n, s in enumerate(data["sources"], 1)}

    def cites(item: dict) -> str:
        return " ".join(f"<a href='#nr-src-{numbers.get(c['article_id'], 0)}'>[{numbers.get(c['article_id'], 0)}]</a>"
                        for c in item["citations"])

    parts = [f"<h3>{html.escape(data['topic'])}</h3>"]
    if data.get("note"):
        parts.append(f"<p>{html.escape(data['note'])}</p>")
    if data["summary"]:
        parts.append("<h4>Summary</h4><p>" + " ".join(f"{html.escape(i['text'])} {cites(i)}" for i in data["summary"]) + "</p>")
    if data["key_points"]:
        parts.append("<h4>Key points</h4><ul>" + "".join(f"<li>{html.escape(i['text'])} {cites(i)}</li>" for i in data["key_points"]) + "</ul>")
    if data["timeline"]:
        parts.append("<h4>Timeline</h4><ul>" + "".join(
            f"<li><b>{html.escape(e['date'])}</b> <i>({html.escape(e['date_source'])})</i>: {html.escape(e['text'])} {cites(e)}</li>"
            for e in data["timeline"]) + "</ul>")
    if data["voices"]:
        parts.append("<h4>Who said what</h4><ul>" + "".join(
            f"<li><b>{html.escape(v['speaker'])}</b>{', ' + html.escape(v['role']) if v['role'] else ''}: {html.escape(v['quote'])} {cites(v)}</li>"
            for v in data["voices"]) + "</ul>")
    if data["disagreements"]:
        parts.append("<h4>Where sources differ</h4><ul>" + "".join(
            f"<li>{html.escape(d['about'])}<ul>" + "".join(
                f"<li>{html.escape(s['date'] or 'undated')}: {html.escape(s['text'])} {cites(s)}</li>" for s in d["sides"])
            + "</ul></li>" for d in data["disagreements"]) + "</ul>")
    if data["sources"]:
        parts.append("<h4>Sources</h4><ol>" + "".join(
            f"<li id='nr-src-{n}'>{html.escape(s['title'])} — {html.escape(s['source'] or 'unknown outlet')}, "
            f"{html.escape(s['date'] or 'undated')} ({html.escape(s['article_id'])})</li>"
            for n, s in enumerate(data["sources"], 1)) + "</ol>")
        parts.append(f"<p>{html.escape(coverage_line(data['coverage']))}</p>")
    return "\n".join(parts)


CSS = """
.nr-card {border: 1px solid #ccc; border-radius: 8px; padding: 8px 12px; margin: 6px 0;}
.nr-card mark {background: #fff3a0;}
.nr-article {white-space: pre-wrap; max-height: 300px; overflow: auto;}
"""


def opened(paths: list[Path]):
    """(name, binary stream) for each file Gradio received, each open only while the service reads it."""
    for path in paths:
        with path.open("rb") as handle:
            yield path.name, handle


def build_ui(service: RagService) -> gr.Blocks:
    def documents_table() -> list[list]:
        # Sorted by story so that the copies of one story sit together.
        rows = sorted(service.documents(), key=lambda d: (-d["copies"], d["story"], d["date"] or "", d["id"]))
        return [[d["id"], d["title"], d["date"] or "", d["source"] or "", d["passages"], d["story"], d["copies"]]
                for d in rows]

    with gr.Blocks(title="newsrag") as blocks:
        gr.Markdown("## newsrag — ask your news archive")
        with gr.Tab("Chat"):
            with gr.Row():
                with gr.Column(scale=3):
                    chatbot = gr.Chatbot(label="Conversation", height=420, render_markdown=False,
                                         sanitize_html=True, elem_id="nr-chat")
                    question = gr.Textbox(label="Question", placeholder="e.g. Who won the election, and by how much?",
                                          elem_id="nr-question", max_length=2000)
                    ask_button = gr.Button("Ask", variant="primary", elem_id="nr-ask")
                    sources = gr.HTML(elem_id="nr-sources")
                with gr.Column(scale=1):
                    since = gr.Textbox(label="From date", placeholder="2022-06-01")
                    until = gr.Textbox(label="To date", placeholder="2022-06-30")
                    outlet_filter = gr.Dropdown(label="Outlets", choices=[], multiselect=True)

            def respond(message, history, since_value, until_value, outlet_values):
                message = (message or "").strip()
                if not message:
                    yield history, "", gr.skip()
                    return
                past = [{"role": m["role"], "content": m["content"]} for m in history
                        if isinstance(m, dict) and isinstance(m.get("content"), str)]
                history = past + [{"role": "user", "content": message}, {"role": "assistant", "content": ""}]
                yield history, "", "<p class='nr-empty'>Searching the archive…</p>"
                draft = ""
                try:
                    for event in service.ask_stream(message, past, since_value or None, until_value or None,
                                                    outlet_values or None):
                        if event["event"] == "token":
                            draft += event["text"]
                            history[-1]["content"] = draft
                            yield history, "", gr.skip()
                        else:
                            answer = event["answer"].to_json()
                            history[-1]["content"] = answer["answer"]
                            yield history, "", source_cards(answer, service)
                except Exception as exc:  # shown to the user as one sentence, the chat goes on
                    history[-1]["content"] = f"Sorry: {exc}"
                    yield history, "", ""

            inputs = [question, chatbot, since, until, outlet_filter]
            ask_button.click(respond, inputs, [chatbot, question, sources])
            question.submit(respond, inputs, [chatbot, question, sources])

        with gr.Tab("Library"):
            table = gr.Dataframe(headers=["id", "title", "date", "outlet", "passages", "story", "copies"], interactive=False, wrap=True)
            upload = gr.File(label="Add articles (.txt .md .html .pdf .jsonl .json)", file_count="multiple",
                             elem_id="nr-upload")
            upload_report = gr.Markdown(elem_id="nr-upload-report")
            with gr.Row():
                delete_id = gr.Textbox(label="Article id to delete")
                delete_button = gr.Button("Delete", variant="stop")

            def upload_files(files, progress=gr.Progress()):
                if not files:
                    return gr.skip(), ""
                paths = [Path(f if isinstance(f, str) else f.name) for f in files]
                progress(0, desc="Ingesting")
                # The same checks, folder and ingest as an API upload: the name Gradio kept for each file is
                # the uploader's, and only the service decides whether and where it is written.
                report = service.upload(opened(paths), progress=lambda done, total, _: progress((done, max(total, 1)))).report
                lines = [f"added {report['added']}, updated {report['updated']}, unchanged {report['unchanged']}, "
                         f"duplicates {len(report['duplicates'])}, failed {len(report['failed'])}"]
                lines += [f"- {html.escape(f['path'])}: {html.escape(f['error'])}" for f in report["failed"]]
                return documents_table(), "\n".join(lines)

            def delete(article_id):
                article_id = (article_id or "").strip()
                if not article_id:
                    return gr.skip(), "Type the id of an article to delete."
                deleted = service.delete(article_id)
                return documents_table(), (f"Deleted {html.escape(article_id)}." if deleted
                                           else f"No article with id {html.escape(article_id)}.")

            upload.upload(upload_files, upload, [table, upload_report])
            delete_button.click(delete, delete_id, [table, upload_report])

        with gr.Tab("Briefing"):
            with gr.Row():
                topic = gr.Textbox(label="Topic", placeholder="e.g. Interest rate decisions this year", scale=3, elem_id="nr-topic")
                brief_since = gr.Textbox(label="From date", placeholder="2022-06-01", scale=1)
                brief_until = gr.Textbox(label="To date", placeholder="2022-06-30", scale=1)
            generate = gr.Button("Generate", variant="primary", elem_id="nr-generate")
            briefing_html = gr.HTML(elem_id="nr-briefing")
            download = gr.File(label="Download as Markdown", interactive=False)

            def make_briefing(topic_value, since_value, until_value):
                import tempfile

                try:
                    briefing = service.brief(topic_value, since_value or None, until_value or None)
                except ValueError as exc:
                    return f"<p>{html.escape(str(exc))}</p>", None
                path = Path(tempfile.mkdtemp(prefix="newsrag-briefing-")) / "briefing.md"
                path.write_text(briefing.to_markdown(), encoding="utf-8")
                return briefing_to_html(briefing.to_json()), str(path)

            generate.click(make_briefing, [topic, brief_since, brief_until], [briefing_html, download])

        def refresh():
            """Fill the outlet choices and the article list on each page load (never at start-up, so a
            store that is down cannot stop the app from starting)."""
            try:
                return gr.Dropdown(choices=service.outlets()), documents_table()
            except Exception:
                return gr.skip(), gr.skip()

        blocks.load(refresh, None, [outlet_filter, table])
    return blocks
