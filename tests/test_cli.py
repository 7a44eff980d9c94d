"""The command line as an operator uses it: real processes, real files, no tokens."""

import os
import subprocess
import sys
from pathlib import Path

DATA = Path(__file__).parent / "data"


def newsdigest(*args: str, cwd: Path, stdin: str = "", **env: str | None) -> subprocess.CompletedProcess[str]:
    """Run the CLI as a fresh process; an env value of None removes the variable."""
    merged = {**{k: v for k, v in os.environ.items() if not k.endswith("_TOKEN")}, "LOG_LEVEL": "WARNING", **env}
    return subprocess.run([sys.executable, "-m", "bot", *args], input=stdin, capture_output=True, text=True,
                          cwd=cwd, env={k: v for k, v in merged.items() if v is not None}, timeout=60)


def test_demo_prints_one_digest_three_ways(tmp_path: Path) -> None:
    result = newsdigest("demo", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Loaded 26 sample summaries" in out
    assert out.index("=== Console ===") < out.index("=== Telegram") < out.index("=== Discord ===")
    assert "Outlets by rating:" in out and "<a href=" in out and "embeds" in out
    assert not list(tmp_path.iterdir())  # throwaway database: nothing left behind


def test_import_then_console_answers_piped_commands(tmp_path: Path) -> None:
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'news.db'}"}
    imported = newsdigest("import", str(DATA / "harbour-crane-summary.txt"), str(DATA / "korea-rail-summary.html"),
                          cwd=tmp_path, **env)
    assert imported.returncode == 0, imported.stderr
    assert "imported 2 new, 0 updated, 0 unchanged" in imported.stdout
    result = newsdigest("console", cwd=tmp_path, stdin="/latest\n/article 1\n/source 1\n/search korea\nbogus\n", **env)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "[2] Korea Rail Link Talks Resume After <Two-Year> Pause" in out
    assert "The eastern quay's six diesel cranes will be replaced" in out  # /article 1 shows key points
    assert "Plainview Times (source 1)" in out and "Bias rating (AllSides): Lean Left" in out
    assert "1 found for 'korea'" in out
    assert "Unknown command /bogus" in out
    assert "Traceback" not in out + result.stderr


def test_a_malformed_import_is_a_clear_error(tmp_path: Path) -> None:
    result = newsdigest("import", str(DATA / "bad"), cwd=tmp_path, DATABASE_URL=f"sqlite:///{tmp_path / 'x.db'}")
    assert result.returncode == 1
    assert "bad-missing-lead.jsonl:2: lead: Field required (nothing was imported)" in result.stderr
    assert "Traceback" not in result.stderr


def test_run_without_a_token_points_to_the_console(tmp_path: Path) -> None:
    result = newsdigest("run", cwd=tmp_path)
    assert result.returncode == 2
    assert "newsdigest console" in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_bad_configuration_names_the_variable(tmp_path: Path) -> None:
    result = newsdigest("demo", cwd=tmp_path, NEWSDIGEST_TIMEZONE="Mars/Olympus", NEWSDIGEST_ADMINS="alice")
    assert result.returncode == 2
    assert "NEWSDIGEST_TIMEZONE" in result.stderr and "NEWSDIGEST_ADMINS" in result.stderr
    assert "Traceback" not in result.stderr


def test_settings_come_from_a_dotenv_file(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("LOG_LEVEL=loud\n")
    result = newsdigest("demo", cwd=tmp_path, LOG_LEVEL=None)
    assert result.returncode == 2 and "LOG_LEVEL: 'loud' is not a log level" in result.stderr


def test_a_webhook_without_its_secret_is_refused_at_start(tmp_path: Path) -> None:
    result = newsdigest("run", cwd=tmp_path, TELEGRAM_BOT_TOKEN="1:x", TELEGRAM_WEBHOOK_URL="https://bot.example/hook",
                        TELEGRAM_WEBHOOK_SECRET="")
    assert result.returncode == 2
    assert "configuration error: TELEGRAM_WEBHOOK_URL needs TELEGRAM_WEBHOOK_SECRET" in result.stderr


def test_a_database_from_a_newer_build_is_refused_untouched(tmp_path: Path) -> None:
    import sqlite3

    db = tmp_path / "news.db"
    env = {"DATABASE_URL": f"sqlite:///{db}"}
    assert newsdigest("import", str(DATA / "summaries.jsonl"), cwd=tmp_path, **env).returncode == 0
    def versions() -> list[int]:
        conn = sqlite3.connect(db)
        try:
            return [row[0] for row in conn.execute("SELECT version FROM schema_migrations ORDER BY version")]
        finally:
            conn.close()

    conn = sqlite3.connect(db)
    with conn:
        conn.execute("INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, 'future', 0)")
    conn.close()
    before = versions()
    result = newsdigest("console", cwd=tmp_path, stdin="/latest\n", **env)
    assert result.returncode == 2
    assert "schema version 999, newer than this build's" in result.stderr and "Traceback" not in result.stderr
    assert versions() == before


def test_a_file_that_is_no_database_is_named_in_one_line(tmp_path: Path) -> None:
    """import, console and sources gave sqlite3's traceback; a folder in its place did the same."""
    garbage = tmp_path / "bot.db"
    garbage.write_text("this is not a database\n" * 100)
    (tmp_path / "folder.db").mkdir()
    for db, why in ((garbage, "file is not a database"), (tmp_path / "folder.db", "unable to open database file")):
        env = {"DATABASE_URL": f"sqlite:///{db}"}
        for args in (("import", str(DATA / "summaries.jsonl")), ("console",), ("sources", "list")):
            result = newsdigest(*args, cwd=tmp_path, **env)
            assert result.returncode == 2 and result.stderr == f"newsdigest: cannot use {db}: {why}\n", args
    assert garbage.read_text().startswith("this is not a database")  # left as it was
