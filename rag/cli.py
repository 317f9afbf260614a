"""`newsrag` command line: thin wrappers over RagService."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.markup import escape
from typer.core import TyperGroup

from rag.retrieval import Mode

# Commands defined outside rag/ (the eval and bench commands in eval/cli.py, serve in app.py) are
# entry points of this group, declared in pyproject.toml, each naming a typer.Typer. An entry point
# rather than an import: rag/ may depend on neither eval/ nor the composition root, yet every way of
# starting the CLI (the `newsrag` script, `python -m rag.cli`, a test's CliRunner on `app`) has to offer
# them. They are loaded only when one of them is asked for or the command list is shown, so `newsrag ask`
# imports nothing of eval/.
COMMAND_PLUGINS = "newsrag.commands"


class _PluginGroup(TyperGroup):
    """The top-level group: the commands defined here, then the ones plugged in through entry points."""

    _plugins_loaded = False

    def _load_plugins(self) -> None:
        if self._plugins_loaded:
            return
        self._plugins_loaded = True
        from importlib.metadata import distributions

        points = {}
        # Every distribution's, not entry_points(): that keeps the first metadata found per project, and a
        # stale newsrag.egg-info left in a checkout (on sys.path under pytest or `python -m`) would hide
        # the installed one.
        for dist in distributions():
            for point in dist.entry_points.select(group=COMMAND_PLUGINS):
                points.setdefault(point.name, point)
        for name, point in sorted(points.items()):
            if name not in self.commands:
                command = typer.main.get_command(point.load())
                command.name = name
                self.add_command(command)
        # Commands, then groups, as Typer lists its own.
        self.commands = dict(sorted(self.commands.items(), key=lambda item: isinstance(item[1], TyperGroup)))

    def list_commands(self, ctx):
        self._load_plugins()
        return super().list_commands(ctx)

    def get_command(self, ctx, cmd_name):
        if cmd_name not in self.commands:
            self._load_plugins()
        return super().get_command(ctx, cmd_name)


app = typer.Typer(cls=_PluginGroup, add_completion=False, no_args_is_help=True, pretty_exceptions_show_locals=False, help="newsrag: cited answers from your news archive.")
out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)


def _service():
    from rag.service import RagService

    return RagService()


def _fail(message: str, code: int = 2) -> None:
    err.print(f"[red]error:[/red] {escape(message)}")
    raise typer.Exit(code)


def _guard(fn):
    """Turn the errors a user can fix into one clear sentence instead of a traceback."""
    from functools import wraps

    from pydantic import ValidationError

    from vectorstore.chroma import StoreError

    @wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except typer.Exit:  # click's Exit is a RuntimeError: let it through untouched
            raise
        except (StoreError, ValueError, RuntimeError) as exc:
            if isinstance(exc, ValidationError):
                first = exc.errors()[0]
                field = "NEWSRAG_" + str(first["loc"][0]).upper() if first.get("loc") else "a setting"
                _fail(f"{field} is invalid: {first['msg']}.")
            _fail(str(exc))

    return wrapper


def run_ingest(service, paths: list[Path], prune: bool = False, quiet: bool = False):
    """Ingest with a progress bar on a terminal; returns the IngestReport."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    if quiet or not err.is_terminal:
        return service.ingest(paths, prune=prune)
    with Progress(
        TextColumn("ingesting"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        TextColumn("{task.description}"), console=err, transient=True,
    ) as bar:
        task = bar.add_task("", total=None)

        def progress(done: int, total: int, path: str) -> None:
            bar.update(task, completed=done, total=total, description=Path(path).name if path else "")

        return service.ingest(paths, prune=prune, progress=progress)


@app.command()
@_guard
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="Files or folders (walked recursively).")],
    prune: Annotated[bool, typer.Option(help="Remove stored articles whose files under PATHS are gone.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
):
    """Add or update articles (.txt .md .html .pdf .jsonl .json) in the archive."""
    service = _service()
    report = run_ingest(service, paths, prune=prune, quiet=as_json)
    if as_json:
        out.print_json(json.dumps(report.to_json()))
    else:
        for failure in report.failed:
            err.print(f"[yellow]skipped:[/yellow] {escape(failure['error'])}")
        for dup in report.duplicates:
            err.print(f"[yellow]duplicate:[/yellow] {escape(dup['path'])} is the same article as '{escape(dup['duplicate_of'])}'; not stored twice.")
        t = report.to_json()["timings"]
        out.print(
            f"added {report.added}, updated {report.updated}, unchanged {report.unchanged}, "
            f"removed {report.removed}, duplicates {len(report.duplicates)}, failed {len(report.failed)}; "
            f"{report.passages} passages in the store"
            + (f" ({t['passages_written']} written at {t['passages_per_s']}/s, {t['embed_share']:.0%} in the embedding model)" if t["passages_written"] else "")
        )
    if report.failed:
        raise typer.Exit(1)


@app.command()
@_guard
def search(
    query: Annotated[str, typer.Argument(help="What to look for.")],
    k: Annotated[Optional[int], typer.Option("--k", min=1, help="Passages to return.")] = None,
    since: Annotated[Optional[str], typer.Option(help="Only articles dated on or after this date.")] = None,
    until: Annotated[Optional[str], typer.Option(help="Only articles dated on or before this date.")] = None,
    source: Annotated[Optional[list[str]], typer.Option(help="Only this outlet (repeatable).")] = None,
    mode: Annotated[str, typer.Option(help="hybrid, dense or bm25.")] = "hybrid",
    as_of: Annotated[Optional[str], typer.Option("--as-of", help="Read the archive as it stood on this day (nothing dated later).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print passages as JSON.")] = False,
):
    """Hybrid (dense + BM25) search over passages."""
    if mode not in Mode.__args__:
        _fail(f"--mode must be one of {', '.join(Mode.__args__)} (got '{mode}').")
    hits = _service().search(query, k=k, since=since, until=until, sources=source, mode=mode, as_of=as_of)
    if as_json:
        out.print_json(json.dumps([hit.to_json() for hit in hits]))
        return
    if not hits:
        out.print("No passages match.")
    for number, hit in enumerate(hits, 1):
        out.print(
            f"[bold][{number}][/bold] {escape(hit.title)} — {escape(hit.source or 'unknown outlet')}, "
            f"{hit.date or 'undated'}  [dim]({escape(hit.article_id)}, score {hit.score:.4f})[/dim]"
            + (f"  also carried by {hit.also_carried_by} outlet{'s' if hit.also_carried_by != 1 else ''}"
               if hit.also_carried_by else "")
        )
        out.print(f"    {escape(hit.text)}\n", soft_wrap=True)


LLM_BACKENDS = ("llamacpp", "openai", "ollama", "extractive", "fake")


@app.command()
@_guard
def ask(
    question: Annotated[str, typer.Argument(help="A question about the archive.")],
    llm: Annotated[Optional[str], typer.Option(help="Backend: llamacpp, openai, ollama or extractive (default: NEWSRAG_LLM).")] = None,
    since: Annotated[Optional[str], typer.Option(help="Only articles dated on or after this date.")] = None,
    until: Annotated[Optional[str], typer.Option(help="Only articles dated on or before this date.")] = None,
    source: Annotated[Optional[list[str]], typer.Option(help="Only this outlet (repeatable).")] = None,
    as_of: Annotated[Optional[str], typer.Option("--as-of", help="Read the archive as it stood on this day (nothing dated later); 'this week' counts back from it.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the answer as JSON.")] = False,
):
    """A short answer with numbered citations, or "The archive does not say."."""
    if llm is not None and llm not in LLM_BACKENDS:
        _fail(f"--llm must be one of {', '.join(LLM_BACKENDS)} (got '{llm}').")
    service = _service()
    answer = None
    live = out.is_terminal and not as_json
    for event in service.ask_stream(question, since=since, until=until, sources=source, backend=llm, as_of=as_of):
        if event["event"] == "token" and live:
            out.print(escape(event["text"]), end="", style="dim")
        elif event["event"] == "answer":
            answer = event["answer"]
    if as_json:
        out.print_json(json.dumps(answer.to_json(), ensure_ascii=False))
        return
    if live:
        out.print("\n[bold]Verified answer:[/bold]")  # the draft above may differ: this is what stands
    out.print(escape(answer.answer))
    if answer.fallback:
        err.print(f"[dim](model answer replaced by a quoted passage: {escape(answer.fallback)})[/dim]")
    for citation in answer.citations:
        out.print(
            f"  [{citation.n}] {escape(citation.title)} — {escape(citation.source or 'unknown outlet')}, "
            f"{citation.date or 'undated'} ({escape(citation.article_id)})\n      “{escape(citation.quote)}”"
        )


@app.command()
@_guard
def brief(
    topic: Annotated[str, typer.Argument(help="What the briefing is about.")],
    since: Annotated[Optional[str], typer.Option(help="Only articles dated on or after this date.")] = None,
    until: Annotated[Optional[str], typer.Option(help="Only articles dated on or before this date.")] = None,
    max_points: Annotated[int, typer.Option(min=1, max=20, help="Most key points.")] = 6,
    source: Annotated[Optional[list[str]], typer.Option(help="Only this outlet (repeatable).")] = None,
    as_of: Annotated[Optional[str], typer.Option("--as-of", help="Read the archive as it stood on this day (nothing dated later).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the briefing as JSON.")] = False,
    markdown: Annotated[bool, typer.Option("--markdown", help="Print the briefing as Markdown (the default on screen).")] = False,
    out_file: Annotated[Optional[Path], typer.Option("--out", help="Write the briefing to this file.")] = None,
):
    """A cited multi-article briefing: summary, key points, timeline, who said what, disagreements."""
    briefing = _service().brief(topic, since, until, max_points, source, as_of)
    text = json.dumps(briefing.to_json(), ensure_ascii=False, indent=2) if as_json else briefing.to_markdown()
    if out_file:
        out_file.write_text(text, encoding="utf-8")
        out.print(f"briefing written to {out_file}")
    elif as_json:
        out.print_json(text)
    else:
        out.print(escape(text))


@app.command()
@_guard
def docs(as_json: Annotated[bool, typer.Option("--json", help="Print the list as JSON.")] = False):
    """List the stored articles."""
    rows = _service().documents()
    if as_json:
        out.print_json(json.dumps(rows))
        return
    from rich.table import Table

    table = Table("id", "title", "date", "date from", "source", "passages", "story", "copies")
    for row in rows:
        table.add_row(row["id"], row["title"][:60], row["date"] or "", row["date_source"], row["source"] or "",
                      str(row["passages"]), row["story"], str(row["copies"]))
    out.print(table)
    out.print(f"{len(rows)} articles in {len({row['story'] for row in rows})} stories")


@app.command()
@_guard
def shell():
    """Interactive search prompt (empty line or Ctrl-D quits)."""
    service = _service()
    service.warm_up()
    out.print(f"{len(service.documents())} articles, {service.passage_count()} passages. Type a query; an empty line quits.")
    while True:
        try:
            query = input("search> ").strip()
        except (EOFError, KeyboardInterrupt):
            break
        if not query:
            break
        try:
            # By keyword: a new option of `search` must not take a value meant for the next one.
            search(query, k=None, since=None, until=None, source=None, mode="hybrid", as_of=None, as_json=False)
        except typer.Exit:
            pass


sources_app = typer.Typer(help="Web sources (feeds, pages, sitemaps) that `newsrag sync` fetches; needs NEWSRAG_ALLOW_NETWORK=true.")
app.add_typer(sources_app, name="sources")


@sources_app.command("add")
@_guard
def sources_add(
    url: Annotated[str, typer.Argument(help="A feed, page or sitemap URL.")],
    kind: Annotated[Optional[str], typer.Option(help="feed, page or sitemap (default: detected from what the URL serves).")] = None,
):
    """Add a web source for `newsrag sync`."""
    source = _service().add_source(url, kind)
    out.print(f"added {escape(source.url)} as a {source.kind}; `newsrag sync` fetches it")


@sources_app.command("list")
@_guard
def sources_list(as_json: Annotated[bool, typer.Option("--json", help="Print the sources as JSON.")] = False):
    """List the web sources and how their last sync went."""
    rows = _service().sources()
    if as_json:
        out.print_json(json.dumps(rows))
        return
    for row in rows:
        state = escape(row["last_error"]) if row["last_error"] else f"synced {row['last_synced'] or 'never'}"
        out.print(f"{escape(row['url'])}  {row['kind']}, {row['articles']} articles, {state}")
    out.print(f"{len(rows)} sources")


@sources_app.command("remove")
@_guard
def sources_remove(url: Annotated[str, typer.Argument(help="The source's URL, as `newsrag sources list` shows it.")]):
    """Stop syncing a source (the articles stored from it stay)."""
    if not _service().remove_source(url):
        _fail(f"{url} is not a source; `newsrag sources list` shows them.")
    out.print(f"removed {escape(url)}; the articles already stored from it stay in the archive")


def run_sync(service, quiet: bool = False):
    """Sync with a progress bar on a terminal; returns the SyncReport."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn("syncing"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), TextColumn("{task.description}"),
                  console=err, transient=True, disable=quiet or not err.is_terminal) as bar:
        task = bar.add_task("", total=None)
        return service.sync(progress=lambda done, total, url: bar.update(task, completed=done, total=total, description=url[-60:]))


@app.command()
@_guard
def sync(
    every: Annotated[Optional[str], typer.Option(help="Keep syncing at this interval (30s, 15m, 2h) until interrupted.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print each sync's report as JSON.")] = False,
):
    """Fetch what is new from every web source and ingest it (needs NEWSRAG_ALLOW_NETWORK=true)."""
    from rag.sources import parse_interval, run_every

    seconds, service = (parse_interval(every) if every else None), _service()

    def once():
        report = run_sync(service, quiet=as_json)
        if as_json:
            out.print_json(json.dumps(report.to_json()))
            return report
        for failure in report.failed:
            err.print(f"[yellow]failed:[/yellow] {escape(failure['error'])}")
        for note in report.from_feed:
            err.print(f"[yellow]page not fetched:[/yellow] {escape(note)}")
        out.print(f"{report.sources} sources, {report.requests} requests ({report.not_modified} not modified, {report.skipped} "
                  f"unchanged items not fetched): added {report.added}, updated {report.updated}, unchanged {report.unchanged}, "
                  f"failed {len(report.failed)}; {report.passages} passages in the store ({report.seconds:.1f} s)")
        return report

    if seconds is not None:
        run_every(seconds, once)
    elif once().failed:
        raise typer.Exit(1)


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        err.print("interrupted")
        sys.exit(130)


if __name__ == "__main__":
    main()
