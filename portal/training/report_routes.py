"""Training's reports for the Schools Forum: take-up of training per course and per area,
and the supply-cover funds' money by area, each as tables, charts and CSV downloads.

GET forms and links only: a report can be bookmarked, and works with JavaScript off.
"""

from __future__ import annotations

from flask import Response, abort, redirect, request, url_for
from flask.typing import ResponseReturnValue

from portal.access import Capability, current_principal, requires
from portal.rendering import render_page
from portal.training import bp
from portal.training.fund_report import fund_charts, fund_report
from portal.training.report_csv import (
    TAKE_UP_TABLES,
    fund_csv,
    fund_filename,
    take_up_csv,
    take_up_filename,
)
from portal.training.take_up import take_up_charts, take_up_page


@bp.get("/reports/take-up")
@requires(Capability.VIEW_TRAINING_REPORTS)
def take_up_report() -> ResponseReturnValue:
    page = take_up_page(request.args)
    arguments = request.args.to_dict(flat=False)
    arguments.pop("table", None)
    return render_page(
        "training/reports/take-up.html",
        form=page.form,
        report=page.report,
        charts=take_up_charts(page.report) if page.report else None,
        csv_urls={
            table: url_for("training.take_up_report_csv", **arguments, table=table)
            for table in TAKE_UP_TABLES
        },
    )


@bp.get("/reports/take-up.csv")
@requires(Capability.VIEW_TRAINING_REPORTS)
def take_up_report_csv() -> ResponseReturnValue:
    table = request.args.get("table", "courses")
    if table not in TAKE_UP_TABLES:
        abort(404)
    page = take_up_page(request.args)
    if page.report is None:
        # The page says what is wrong with the filter, beside it.
        arguments = request.args.to_dict(flat=False)
        arguments.pop("table", None)
        return redirect(url_for("training.take_up_report", **arguments), 303)
    return _csv(take_up_csv(page.report, table), take_up_filename(page.report, table))


@bp.get("/reports/funds")
@requires(Capability.VIEW_TRAINING_REPORTS)
def funds_report() -> ResponseReturnValue:
    report = fund_report(current_principal(), request.args.get("fund"))
    if report is None:
        abort(404)
    return render_page(
        "training/reports/funds.html",
        report=report,
        charts=fund_charts(report),
        csv_url=url_for("training.funds_report_csv", **request.args.to_dict(flat=False)),
    )


@bp.get("/reports/funds.csv")
@requires(Capability.VIEW_TRAINING_REPORTS)
def funds_report_csv() -> ResponseReturnValue:
    report = fund_report(current_principal(), request.args.get("fund"))
    if report is None:
        abort(404)
    return _csv(fund_csv(report), fund_filename(report))


def _csv(text: str, filename: str) -> Response:
    return Response(
        text,
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
