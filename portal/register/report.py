"""An import's report: what it would change (a dry run) or changed, as stored on the import
(plain JSON) and shown on its page or printed by the command line."""

from __future__ import annotations

from typing import Any

from portal.register.extract import MalformedFile
from portal.register.plan import Plan, Snapshot
from portal.register.service import Describer

# The lists a report holds, in the order a person reads them, with their headings.
SECTIONS = (
    ("additions", "Schools to add", "Schools added"),
    ("changes", "Schools to change", "Schools changed"),
    ("closures", "Schools to retire as closed", "Schools retired as closed"),
    ("reviews", "Flagged for review", "Flagged for review"),
    ("trusts", "Trusts to add or rename", "Trusts added or renamed"),
    ("rejected", "Rows rejected", "Rows rejected"),
    ("skipped", "Rows skipped", "Rows skipped"),
)


def plan_report(plan: Plan, snapshot: Snapshot) -> dict[str, Any]:
    describe = Describer(snapshot, plan)
    return {
        "encoding": plan.encoding,
        "rows": plan.rows,
        "other_la": plan.other_la,
        "closed_elsewhere": plan.closed_elsewhere,
        "unchanged": plan.unchanged,
        "absent_columns": plan.absent_columns,
        "la_codes": sorted(snapshot.la_codes),
        "additions": [
            {
                "row": a.row,
                "urn": a.urn,
                "name": a.name,
                "type": describe("establishment_type", a.values["establishment_type"]),
                "phase": describe("phase", a.values["phase"]),
                "area": describe("area_id", a.values["area_id"]),
                "trust": describe("trust_uid", a.values["trust_uid"]),
            }
            for a in plan.additions
        ],
        "changes": [
            {
                "row": c.row,
                "urn": c.urn,
                "name": c.name,
                "fields": [
                    [label, *values] for label, values in describe.changes(c.fields).items()
                ],
            }
            for c in plan.changes
        ],
        "closures": [
            {
                "row": c.row,
                "urn": c.urn,
                "name": c.name,
                "closed_on": describe("closed_on", c.closed_on),
                "members": c.members,
            }
            for c in plan.closures
        ],
        "reviews": [{"urn": r.urn, "name": r.name, "note": r.note} for r in plan.reviews.values()],
        "trusts": [
            {"group_uid": uid, "name": name, "was": None} for uid, name in plan.new_trusts.items()
        ]
        + [
            {"group_uid": uid, "name": new, "was": old}
            for uid, (old, new) in plan.renamed_trusts.items()
        ],
        "rejected": [{"row": r.row, "urn": r.urn, "reason": r.reason} for r in plan.rejected],
        "skipped": [
            {"row": s.row, "urn": s.urn, "name": s.name, "reason": s.reason} for s in plan.skipped
        ],
        "missing": [{"urn": urn, "name": name} for urn, name in plan.missing],
    }


def wrong_file_report(plan: Plan, snapshot: Snapshot, filename: str) -> dict[str, Any] | None:
    """A file with no rows for the council's local authority is the wrong file (another
    council's, or a test download): the refusal that says so, and which authorities the file
    does have, from the file itself. None for a file with rows for the council."""
    if plan.council_rows:
        return None
    codes = sorted(snapshot.la_codes)
    ours = f"LA {codes[0]}" if len(codes) == 1 else f"LAs {', '.join(codes)}"
    if not plan.rows:
        message = (
            f"The file has no schools at all, so none for {ours}, this council's local "
            "authority: it has a header row and nothing else. Download it from GIAS again."
        )
    else:
        count = len(plan.other_authorities)
        listed = "the local authority" if count == 1 else f"the {count:,} local authorities"
        message = (
            f"The file has no schools for {ours}, this council's local authority, so none of "
            f"it can be used: is it the right file? Its {_rows(plan.rows)} "
            f"{'are' if plan.rows != 1 else 'is'} for {listed} listed below."
        )
    authorities = sorted(plan.other_authorities.values(), key=lambda a: (-a.rows, a.code))
    return {
        "error": {
            "file": filename,
            "message": message,
            "rows": [],
            "authorities": [{"code": a.code, "name": a.name, "rows": a.rows} for a in authorities],
        }
    }


def malformed_report(error: MalformedFile, filename: str) -> dict[str, Any]:
    return {
        "error": {
            "file": filename,
            "message": error.message,
            "rows": [{"row": p.row, "reason": p.reason} for p in error.problems],
        }
    }


def summary(report: dict[str, Any], *, applied: bool) -> list[tuple[str, str]]:
    """The report's numbers, as the rows of a summary list."""
    rows = [
        ("Rows in the file", f"{report['rows']:,} (read as {report['encoding']})"),
        (
            f"Rows for LA {', '.join(report['la_codes'])}",
            f"{report['rows'] - report['other_la']:,}",
        ),
        ("Unchanged", f"{report['unchanged']:,}"),
        ("Closed schools the portal never held", f"{report['closed_elsewhere']:,}"),
    ]
    return rows + [
        (done if applied else planned, f"{len(report[key]):,}") for key, planned, done in SECTIONS
    ]


def has_work(report: dict[str, Any]) -> bool:
    return any(report.get(key) for key in ("additions", "changes", "closures", "reviews", "trusts"))


def text_lines(report: dict[str, Any], *, applied: bool) -> list[str]:
    """The report as the command line prints it."""
    if "error" in report:
        error = report["error"]
        lines = [f"Nothing was applied. {error['file']}: {error['message']}"]
        lines += [
            f"  LA {a['code'] or '(none)'} {a['name']}: {_rows(a['rows'])}"
            for a in error.get("authorities", [])
        ]
        return lines + [f"  row {p['row']}: {p['reason']}" for p in error["rows"]]
    lines = [
        f"Read {report['rows']} rows ({report['encoding']}); "
        f"{report['rows'] - report['other_la']} for LA {', '.join(report['la_codes'])}, "
        f"{report['other_la']} for other LAs left alone.",
        f"{report['unchanged']} unchanged; {report['closed_elsewhere']} closed schools "
        "the portal never held.",
    ]
    if report["absent_columns"]:
        lines.append("Not in the file, so left as they are: " + ", ".join(report["absent_columns"]))
    for key, planned, done in SECTIONS:
        items = report[key]
        lines.append(f"{done if applied else planned}: {len(items)}")
        lines += [f"  {_item_line(key, item)}" for item in items]
    if report["missing"]:
        lines.append(
            f"Open in the portal but not in the file (left as they are): {len(report['missing'])}"
        )
        lines += [f"  {m['urn']} {m['name']}" for m in report["missing"]]
    return lines


def _rows(count: int) -> str:
    return f"{count:,} row{'' if count == 1 else 's'}"


def _item_line(key: str, item: dict[str, Any]) -> str:
    if key == "additions":
        return f"row {item['row']}: {item['urn']} {item['name']} ({item['type']}, {item['area']})"
    if key == "changes":
        fields = "; ".join(
            f"{label}: {old or 'none'} → {new or 'none'}" for label, old, new in item["fields"]
        )
        return f"row {item['row']}: {item['urn']} {item['name']}: {fields}"
    if key == "closures":
        closed = item["closed_on"] or "(no date given)"
        return f"row {item['row']}: {item['urn']} {item['name']}, closed {closed}"
    if key == "reviews":
        return f"{item['urn']} {item['name']}: {item['note']}"
    if key == "trusts":
        was = f" (was {item['was']})" if item["was"] else " (new)"
        return f"{item['group_uid']} {item['name']}{was}"
    if key == "rejected":
        return f"row {item['row']}: URN {item['urn'] or '(none)'}: {item['reason']}"
    return f"row {item['row']}: {item['urn']} {item['name']}: {item['reason']}"
