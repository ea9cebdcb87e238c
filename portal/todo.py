"""What a home page lists for a person to do: each thing, where it is done, and by when.

Each capability says what its own data asks of a person, in a ``home`` module of its own
(``portal.buyback.home.home_tasks`` and so on); the home page (portal/main/home.py) only
puts their lists together. A date is written into the words here with the same helpers the
templates' filters use (portal/templating.py), so every time reads in Europe/London.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ToDo:
    """One thing to do: the words of the link to where it is done, and where it stands."""

    text: str
    href: str | None
    # Where it stands and by when, in a sentence ("Due by 2 March 2027 at 5:00pm: ...").
    hint: str = ""
    # A tag for its state ("Not started", "Overdue"); "" for none.
    status: str = ""
    # The GOV.UK tag's colour: "blue", "light-blue", "yellow", "red", "orange", "green"...
    colour: str = ""
    # Nothing is left to do: only listed where every state is (a trust's academies).
    done: bool = False
    # The school it is about, so that a trust lead's home can put each academy's together.
    school_id: int | None = None


@dataclass(frozen=True)
class ToDoList:
    """A capability's things to do, under its heading on the home page."""

    title: str
    items: tuple[ToDo, ...]
    # Where to see them all, when only the first few are listed.
    more: ToDo | None = None

    @property
    def to_do(self) -> tuple[ToDo, ...]:
        return tuple(item for item in self.items if not item.done)

    def for_school(self, school_id: int) -> ToDo | None:
        return next((item for item in self.items if item.school_id == school_id), None)
