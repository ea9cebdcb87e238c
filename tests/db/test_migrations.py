"""The Alembic migrations build exactly the schema the models describe, and unwind."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask import Flask
from sqlalchemy import Connection, create_engine, inspect, text
from sqlalchemy.exc import IntegrityError

from portal.cli import alembic_config
from portal.db import Base, include_object


# SQLite cannot reflect the case-insensitive e-mail index (an expression); PostgreSQL can.
@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index")
@pytest.mark.filterwarnings("ignore:autogenerate skipping metadata-specified expression-based")
def test_migrations_match_the_models(seeded_app: Flask) -> None:
    engine = seeded_app.extensions["portal.db"].engine
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "include_object": include_object}
        )
        differences = compare_metadata(context, Base.metadata)
    assert differences == [], "a model changed without a migration: flask db revision -m ..."


@pytest.fixture
def empty_database(database_url: str) -> Iterator[str]:
    """An empty database of the kind under test: SQLite in memory, or a PostgreSQL schema of
    its own beside the seeded one (dropped afterwards)."""
    if database_url.startswith("sqlite"):
        yield "sqlite://"
        return
    engine = create_engine(database_url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA IF EXISTS migration_check CASCADE"))
        connection.execute(text("CREATE SCHEMA migration_check"))
    separator = "&" if "?" in database_url else "?"
    try:
        yield f"{database_url}{separator}options=-csearch_path%3Dmigration_check"
    finally:
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA IF EXISTS migration_check CASCADE"))
        engine.dispose()


def test_every_migration_goes_down_and_up_again(make_app, empty_database: str) -> None:
    """Each revision, one step at a time, down to nothing and back up, on both databases."""
    from alembic import command
    from alembic.script import ScriptDirectory

    app = make_app(DATABASE_URL=empty_database)
    with app.app_context():
        config = alembic_config()
        revisions = [r.revision for r in ScriptDirectory.from_config(config).walk_revisions()]
        engine = app.extensions["portal.db"].engine
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
            assert "school" in inspect(connection).get_table_names()
            for _ in revisions:
                command.downgrade(config, "-1")
                _keeps_one_account_per_address(connection)
            assert inspect(connection).get_table_names() == ["alembic_version"]
            for _ in revisions:
                command.upgrade(config, "+1")
                _keeps_one_account_per_address(connection)
            assert "register_import" in inspect(connection).get_table_names()
            columns = {column["name"] for column in inspect(connection).get_columns("user_account")}
            assert "totp_last_step" in columns


_ADD_USER = text(
    "INSERT INTO user_account (email, display_name, password_hash, is_active, session_version,"
    " created_at) VALUES (:email, 'A Person', 'x', TRUE, 1, CURRENT_TIMESTAMP)"
)


def _keeps_one_account_per_address(connection: Connection) -> None:
    """While there are accounts at all, two addresses differing only in case are refused.

    Columns are added to and dropped from user_account with plain ALTER TABLE: a batch copy
    on SQLite would quietly drop the case-insensitive e-mail index, which it cannot reflect.
    """
    if "user_account" not in inspect(connection).get_table_names():
        return
    savepoint = connection.begin_nested()
    try:
        connection.execute(_ADD_USER, {"email": "Same.Person@school.example"})
        with pytest.raises(IntegrityError):
            connection.execute(_ADD_USER, {"email": "same.person@school.example"})
    finally:
        savepoint.rollback()


def test_submissions_made_before_0010_and_0024_get_their_answers_as_rows(app: Flask) -> None:
    """0010 fills in the answer rows of earlier submissions from their lines, and 0024 their
    options and numbers, in SQL on either database, as the portal would have written them
    (portal.models.submission_answers): a line without a yes or no is no answer, of two
    lines for a service the last stands, and a number not given is one."""
    import importlib

    from sqlalchemy import delete, select

    from portal.models import BuybackSubmission, BuybackSubmissionAnswer, submission_answers

    backfill = importlib.import_module("portal.migrations.versions.0010_submission_answers")
    options = importlib.import_module("portal.migrations.versions.0024_submission_answer_options")
    session = app.extensions["portal.db"].session_factory()
    try:
        odd = session.scalars(select(BuybackSubmission).limit(1)).one()
        odd.lines = [
            {
                "service_id": 9001,
                "buying": True,
                "net_pence": 1234,
                "option_id": 77,
                "option": "Per pupil",
                "unit": "pupil",
                "quantity": 3,
            },
            {"service_id": "9002", "buying": None, "net_pence": 0},  # no answer
            {"service_id": 9003, "buying": False},  # no number: one
            {"service_id": 9004, "buying": True, "net_pence": 1, "option_id": 5, "quantity": 2},
            # The last line stands.
            {"service_id": 9004, "buying": False, "net_pence": 0, "option_id": None},
        ]
        session.flush()
        session.execute(delete(BuybackSubmissionAnswer))
        dialect = session.get_bind().dialect.name
        session.execute(text(backfill.BACKFILL[dialect]))
        session.execute(text(options.BACKFILL[dialect]))

        columns = ("submission_id", "service_id", "buying", "net_pence")
        columns += ("option_id", "option_name", "unit", "quantity")
        found = {
            tuple(getattr(a, column) for column in columns)
            for a in session.scalars(select(BuybackSubmissionAnswer))
        }
        expected = {
            tuple(row[column] for column in columns)
            for submission_id, lines in session.execute(
                select(BuybackSubmission.id, BuybackSubmission.lines)
            )
            for row in submission_answers(submission_id, lines)
        }
        assert found == expected
        assert {row[:2] for row in found if row[0] == odd.id} == {
            (odd.id, 9001),
            (odd.id, 9003),
            (odd.id, 9004),
        }
        assert (odd.id, 9001, True, 1234, 77, "Per pupil", "pupil", 3) in found
        assert (odd.id, 9003, False, 0, None, None, None, 1) in found
        assert (odd.id, 9004, False, 0, None, None, None, 1) in found
        assert len(found) > 100  # the demo's submissions too
    finally:
        session.close()


def test_0012_keeps_every_role_and_link_and_going_down_drops_only_invitations(
    make_app,
    empty_database: str,
) -> None:
    """Memberships from before 0012 were given, so stay; a link from before (an account's)
    still opens its account. Going down drops the invitations waiting for an answer and
    their links, which belong to no account; every role and every other link stays."""
    from alembic import command

    app = make_app(DATABASE_URL=empty_database)
    with app.app_context():
        config = alembic_config()
        engine = app.extensions["portal.db"].engine
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "0011_data_stamps")
            run = connection.execute
            run(_ADD_USER, {"email": "early@school.example"})
            run(text("INSERT INTO area (name, code, districts) VALUES ('North', 'north', '[]')"))
            run(
                text(
                    "INSERT INTO membership (user_id, role, area_id) SELECT u.id, 'caf_officer',"
                    " a.id FROM user_account u, area a"
                )
            )
            run(
                text(
                    "INSERT INTO account_token (user_id, purpose, token_hash, created_at,"
                    " expires_at) SELECT id, 'invitation', 'early', CURRENT_TIMESTAMP,"
                    " CURRENT_TIMESTAMP FROM user_account"
                )
            )

            command.upgrade(config, "0012_membership_invitations")
            assert run(text("SELECT role FROM membership")).scalars().all() == ["caf_officer"]
            assert run(text("SELECT invitation_id FROM account_token")).scalars().all() == [None]
            run(
                text(
                    "INSERT INTO membership_invitation (email, invited_name, created_at, role)"
                    " VALUES ('new@school.example', 'New', CURRENT_TIMESTAMP, 'publisher')"
                )
            )
            run(
                text(
                    "INSERT INTO account_token (purpose, token_hash, created_at, expires_at,"
                    " invitation_id) SELECT 'invitation', 'offer', CURRENT_TIMESTAMP,"
                    " CURRENT_TIMESTAMP, id FROM membership_invitation"
                )
            )

            command.downgrade(config, "0011_data_stamps")
            assert "membership_invitation" not in inspect(connection).get_table_names()
            assert run(text("SELECT token_hash FROM account_token")).scalars().all() == ["early"]
            assert run(text("SELECT role FROM membership")).scalars().all() == ["caf_officer"]
            _keeps_one_account_per_address(connection)
            user_id = next(
                c
                for c in inspect(connection).get_columns("account_token")
                if c["name"] == "user_id"
            )
            assert not user_id["nullable"]
