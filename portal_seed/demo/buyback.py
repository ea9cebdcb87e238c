"""The buy-back season under way: more head teachers with accounts, and returns made."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from portal.buyback.answers import Answer, current_answers, read_answers, read_seen, seen_text
from portal.buyback.choices import get_choice, save
from portal.buyback.choices import submit as submit_choice
from portal.buyback.offered import offered_to
from portal.clock import LONDON
from portal.db import db
from portal.models import Area, BuybackWindow, Cohort, School, Trust, User
from portal_seed.data_files import read_json
from portal_seed.demo.council import accounts_of_kind, add_account

# The buy-back season under way: more schools whose head teachers have accounts (the others
# cannot be reminded by e-mail, so the council's window page lists them to telephone), and
# two returns to this year's maintained window: one as submitted, one changed by staff since.
SEASON_ACCOUNTS = accounts_of_kind("buyback season")

# URN, head teacher, submitted (London time), and who changed it since and when.
SEASON_RETURNS: list[tuple[int, str, tuple[int, ...], str | None, tuple[int, ...] | None]] = [
    (
        row["urn"],
        row["head"],
        tuple(row["submitted"]),
        row["changed_by"],
        tuple(row["changed_at"]) if row["changed_at"] else None,
    )
    for row in read_json("demo_buyback_season.json")
]


def add_buyback_season(
    schools: dict[int, School], trusts: dict[str, Trust], areas: dict[str, Area]
) -> None:
    """The accounts and returns above, through the buy-back's own workflow, at the moments
    given (in the maintained schools' 2027-28 window, whenever the demo is seeded)."""

    for account in SEASON_ACCOUNTS:
        add_account(account, schools, trusts, areas)
    db.session.commit()
    window = db.session.scalars(
        select(BuybackWindow).where(
            BuybackWindow.year == 2027, BuybackWindow.cohort == Cohort.MAINTAINED
        )
    ).one_or_none()
    if window is None:
        return
    london = LONDON

    def person(email: str) -> User:
        return db.session.scalars(select(User).where(User.email == email)).one()

    for urn, head, submitted, changer, changed in SEASON_RETURNS:
        school = schools[urn]
        if get_choice(school, window) is not None:
            continue
        offered = offered_to(school, window.year)
        # Last year's answers, and "not buying" for what is new this year.
        answers = current_answers(school, window, offered, None)
        for item in offered:
            answer = answers.by_service.setdefault(item.service.id, Answer())
            if answer.buying is None or (answer.buying and answer.option_id is None):
                answer.buying, answer.option_id, answer.net_pence = False, None, None
        submit_choice(
            school,
            window,
            None,
            answers,
            offered,
            person(head),
            f"PO-DEMO-{urn}",
            f"demo-2027-{urn}",
            at=datetime(*submitted, tzinfo=london),
        )
        if changer is None or changed is None:
            continue
        # Staff stop buying the first service bought, and buy the first not bought: the head
        # is e-mailed, and the choice page says what is not yet sent.
        choice = get_choice(school, window, with_lines=True)
        shown = current_answers(school, window, offered, choice)
        bought = [i for i in offered if shown.by_service[i.service.id].buying]
        not_bought = [i for i in offered if not shown.by_service[i.service.id].buying]
        items = [*bought[:1], *not_bought[:1]]
        form = {f"answer-{item.service.id}": "no" for item in bought[:1]}
        for item in not_bought[:1]:
            form[f"answer-{item.service.id}"] = "buy"
            form[f"option-{item.service.id}"] = str(item.options[0].id)
        save(
            school,
            window,
            choice,
            read_answers(form, items, school, window.year),
            person(changer),
            offered,
            seen=read_seen(seen_text(shown, items)),
            at=datetime(*changed, tzinfo=london),
        )
