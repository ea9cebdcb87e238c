"""Every route, against every demo role and nobody signed in, with the answer each must get.

A route that is not in this table fails the build, so a new page cannot ship without its
access being decided here. Schools are named by URN so the table reads like the policy:

* Oakfield Primary (125601): maintained, North area.
* Hartshill Green Primary (125602): maintained, North area.
* Atherstone Meadows Primary (140202): academy in Meadow Learning Trust, North area.
* Riverside Academy (140201): Meadow Learning Trust, Nuneaton and Bedworth area.
* Hillmorton Primary (125613): maintained, Rugby area.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.access.cases import (
    ACTIVE_CONTACT,
    ALL_SIGNED_IN,
    CONTACTS_STAFF,
    COUNCIL,
    COUNCIL_WIDE,
    EDITORS,
    EVERYONE,
    MANAGERS,
    NO_BUYBACK,
    NO_RECORD,
    NO_TOKEN,
    OAKFIELD_USERS,
    RAISERS,
    RETIRED_CONTACT,
    ROLES,
    SCHOOL_LEADERS,
    SUPPORT_VIEWERS,
    Case,
    refused,
    school,
)
from tests.access.training_attendee_cases import ATTENDEE_CASES
from tests.access.training_booking_cases import BOOKING_CASES
from tests.access.training_fund_cases import FUND_CASES
from tests.access.training_manage_cases import MANAGE_CASES
from tests.access.training_report_cases import REPORT_CASES
from tests.conftest import csrf_token
from tests.helpers.routes import resolve

CASES = [
    Case("GET", "/", "/", ALL_SIGNED_IN),
    Case("GET", "/sign-in", "/sign-in", ("anonymous",), denied=302),
    Case("POST", "/sign-out", "/sign-out", ALL_SIGNED_IN, ok=303),
    # The code step of a council sign-in: only with a correct password just given (not here),
    # so everyone is sent on: to sign in, or home.
    Case("GET", "/sign-in/code", "/sign-in/code", (), denied=302),
    Case("POST", "/sign-in/code", "/sign-in/code", (), denied=302),
    # Council staff's second factor; the demo council's is set up, so a POST goes back to it.
    Case("GET", "/account/two-factor", "/account/two-factor", COUNCIL, denied=403),
    Case("POST", "/account/two-factor", "/account/two-factor", COUNCIL, ok=303, denied=403),
    Case("GET", "/healthz", "/healthz", EVERYONE),
    Case("GET", "/accessibility", "/accessibility", EVERYONE),
    Case("GET", "/privacy", "/privacy", EVERYONE),
    Case("GET", "/cookies", "/cookies", EVERYONE),
    Case("GET", "/favicon.ico", "/favicon.ico", EVERYONE),
    Case("GET", "/schools/", "/schools/", ALL_SIGNED_IN),
    Case("GET", "/schools/?q=oak", "/schools/", ALL_SIGNED_IN, htmx=True, anonymous=401),
    Case(
        "GET",
        "/schools/{school:125601}",
        "/schools/<int:school_id>",
        school(125601, "caf_officer", *OAKFIELD_USERS),
    ),
    Case(
        "GET",
        "/schools/{school:125602}",
        "/schools/<int:school_id>",
        school(125602, "caf_officer"),
    ),
    Case(
        "GET",
        "/schools/{school:140202}",
        "/schools/<int:school_id>",
        school(140202, "caf_officer", "trust_lead"),
    ),
    Case(
        "GET",
        "/schools/{school:140201}",
        "/schools/<int:school_id>",
        school(140201, "academy_head", "trust_lead"),
    ),
    Case(
        "GET",
        "/schools/{school:125613}",
        "/schools/<int:school_id>",
        school(125613),
    ),
    Case("GET", "/schools/999999", "/schools/<int:school_id>", ()),
    # Local contacts: everyone reads; publishers and administrators keep the directory.
    Case("GET", "/contacts/", "/contacts/", ALL_SIGNED_IN),
    Case("GET", "/contacts/?q=psych", "/contacts/", ALL_SIGNED_IN, htmx=True, anonymous=401),
    Case("GET", "/contacts/?retired=1", "/contacts/", ALL_SIGNED_IN),
    Case(
        "GET",
        f"/contacts/{{contact:{ACTIVE_CONTACT}}}",
        "/contacts/<int:contact_id>",
        ALL_SIGNED_IN,
    ),
    Case("GET", f"/contacts/{{contact:{RETIRED_CONTACT}}}", "/contacts/<int:contact_id>", EDITORS),
    Case("GET", "/contacts/999999", "/contacts/<int:contact_id>", ()),
    Case("GET", "/contacts/new", "/contacts/new", EDITORS, denied=403),
    Case("POST", "/contacts/new", "/contacts/new", EDITORS, denied=403),
    Case(
        "GET",
        f"/contacts/{{contact:{ACTIVE_CONTACT}}}/edit",
        "/contacts/<int:contact_id>/edit",
        EDITORS,
        denied=403,
    ),
    Case(
        "POST",
        f"/contacts/{{contact:{ACTIVE_CONTACT}}}/edit",
        "/contacts/<int:contact_id>/edit",
        EDITORS,
        denied=403,
    ),
    # Editors find no such contact; everyone else may not edit at all.
    Case(
        "GET",
        "/contacts/999999/edit",
        "/contacts/<int:contact_id>/edit",
        EDITORS,
        ok=404,
        denied=403,
    ),
    Case(
        "GET",
        f"/contacts/{{contact:{ACTIVE_CONTACT}}}/retire",
        "/contacts/<int:contact_id>/retire",
        EDITORS,
        denied=403,
    ),
    Case(
        "POST",
        f"/contacts/{{contact:{ACTIVE_CONTACT}}}/retire",
        "/contacts/<int:contact_id>/retire",
        EDITORS,
        ok=303,
        denied=403,
    ),
    Case(
        "POST",
        f"/contacts/{{contact:{RETIRED_CONTACT}}}/reinstate",
        "/contacts/<int:contact_id>/reinstate",
        EDITORS,
        ok=303,
        denied=403,
    ),
    Case(
        "POST",
        f"/contacts/{{contact:{ACTIVE_CONTACT}}}/check",
        "/contacts/<int:contact_id>/check",
        EDITORS,
        ok=303,
        denied=403,
    ),
    Case("GET", "/contacts/needs-checking", "/contacts/needs-checking", EDITORS, denied=403),
    Case("GET", "/contacts/export.csv", "/contacts/export.csv", CONTACTS_STAFF, denied=403),
    # Asking for retired contacts too: the export (and the search) leaves them out for anyone
    # who may not see them (Capability.VIEW_RETIRED_CONTACTS), rather than refusing.
    Case(
        "GET", "/contacts/export.csv?retired=1", "/contacts/export.csv", CONTACTS_STAFF, denied=403
    ),
    Case("GET", "/contacts/poster", "/contacts/poster", ALL_SIGNED_IN),
    Case(
        "GET",
        "/contacts/poster?school={school:125601}",
        "/contacts/poster",
        school(125601, "caf_officer", *OAKFIELD_USERS),
    ),
    Case(
        "GET",
        "/contacts/poster?school={school:140201}",
        "/contacts/poster",
        school(140201, "academy_head", "trust_lead"),
    ),
    Case(
        "GET",
        "/contacts/poster?area={area:north}",
        "/contacts/poster",
        (*COUNCIL, *OAKFIELD_USERS, "trust_lead"),
    ),
    Case("GET", "/contacts/poster?area={area:rugby}", "/contacts/poster", COUNCIL_WIDE),
    # The annual letter: a school's own, like the poster; every school's for the council (a
    # CAF officer's: the schools of their areas); e-mailing them for those who keep contacts.
    Case("GET", "/contacts/letter", "/contacts/letter", ALL_SIGNED_IN),
    Case(
        "GET",
        "/contacts/letter?school={school:125601}",
        "/contacts/letter",
        school(125601, "caf_officer", *OAKFIELD_USERS),
    ),
    Case(
        "GET",
        "/contacts/letter?school={school:140201}",
        "/contacts/letter",
        school(140201, "academy_head", "trust_lead"),
    ),
    Case(
        "GET",
        "/contacts/letter?area={area:north}",
        "/contacts/letter",
        (*COUNCIL, *OAKFIELD_USERS, "trust_lead"),
    ),
    Case("GET", "/contacts/letter?area={area:rugby}", "/contacts/letter", COUNCIL_WIDE),
    Case("GET", "/contacts/letter?all=1", "/contacts/letter", CONTACTS_STAFF, denied=403),
    Case("POST", "/contacts/letter/send", "/contacts/letter/send", EDITORS, ok=303, denied=403),
    Case(
        "GET",
        "/contacts/letter/sent/999999",
        "/contacts/letter/sent/<int:event_id>",
        EDITORS,
        ok=404,
        denied=403,
    ),
    # CAF officer support. Raising: school roles. Seeing: by the policy's scope, else 404.
    Case("GET", "/support/", "/support/", SUPPORT_VIEWERS, denied=403),
    Case(
        "GET",
        "/support/?urgency=soon",
        "/support/",
        SUPPORT_VIEWERS,
        denied=403,
        htmx=True,
        anonymous=401,
    ),
    Case("GET", "/support/new", "/support/new", RAISERS, denied=403),
    Case("GET", "/support/new/consent", "/support/new/<slug>", RAISERS, denied=403),
    Case("POST", "/support/new/consent", "/support/new/<slug>", RAISERS, denied=403),
    # Only trust leads work with several schools, so only they are asked which.
    Case(
        "GET",
        "/support/new/school",
        "/support/new/<slug>",
        ("trust_lead",),
        denied=403,
        exceptions=tuple((r, 404) for r in RAISERS if r != "trust_lead"),
    ),
    Case("GET", "/support/new/check", "/support/new/check", RAISERS, ok=303, denied=403),
    Case("POST", "/support/new/check", "/support/new/check", RAISERS, ok=303, denied=403),
    Case(
        "GET",
        "/support/{support:demo-request-1}",
        "/support/<int:request_id>",
        ("school_staff", "head_teacher", "caf_officer", "la_admin"),
    ),
    Case(
        "GET",
        "/support/{support:demo-request-2}",
        "/support/<int:request_id>",
        ("head_teacher", "caf_officer", "la_admin"),
    ),
    Case(
        "GET",
        "/support/{support:demo-request-3}",
        "/support/<int:request_id>",
        ("academy_head", "trust_lead", "la_admin"),
    ),
    Case("GET", "/support/999999", "/support/<int:request_id>", ()),
    # Updating: officers of the area and administrators; the school may look but not act.
    Case(
        "POST",
        "/support/{support:demo-request-1}",
        "/support/<int:request_id>",
        ("caf_officer", "la_admin"),
        exceptions=(("school_staff", 403), ("head_teacher", 403)),
    ),
    Case(
        "GET",
        "/support/{support:demo-request-1}/sent",
        "/support/<int:request_id>/sent",
        ("school_staff", "head_teacher"),
        exceptions=refused(*COUNCIL),
    ),
    # Giving a request to an officer: its area's officers and administrators (others 403).
    Case(
        "POST",
        "/support/{support:demo-request-1}/assign",
        "/support/<int:request_id>/assign",
        ("caf_officer", "la_admin"),
        denied=403,
    ),
    Case(
        "POST",
        "/support/{support:demo-request-3}/assign",
        "/support/<int:request_id>/assign",
        ("la_admin",),
        denied=403,
        exceptions=(("caf_officer", 404),),  # another area's request
    ),
    # The statistics: officers their areas', administrators everyone's.
    Case("GET", "/support/stats", "/support/stats", ("la_admin", "caf_officer"), denied=403),
    Case(
        "GET", "/support/stats.csv", "/support/stats.csv", ("la_admin", "caf_officer"), denied=403
    ),
    # The Open Referral UK feed: open to everyone, signed in or not. The demo data has no
    # fixed public ids, so each record's route is checked with an id that is no record's.
    Case("GET", "/api/oruk/", "/api/oruk/", EVERYONE),
    Case("GET", "/api/oruk/services", "/api/oruk/services", EVERYONE),
    Case("GET", "/api/oruk/services/{public:Payroll}", "/api/oruk/services/<service_id>", EVERYONE),
    Case(
        "GET",
        f"/api/oruk/services/{NO_RECORD}",
        "/api/oruk/services/<service_id>",
        (),
        denied=404,
        anonymous=404,
    ),
    Case("GET", "/api/oruk/taxonomies", "/api/oruk/taxonomies", EVERYONE),
    Case(
        "GET",
        f"/api/oruk/taxonomies/{NO_RECORD}",
        "/api/oruk/taxonomies/<taxonomy_id>",
        (),
        denied=404,
        anonymous=404,
    ),
    Case("GET", "/api/oruk/taxonomy_terms", "/api/oruk/taxonomy_terms", EVERYONE),
    Case(
        "GET",
        f"/api/oruk/taxonomy_terms/{NO_RECORD}",
        "/api/oruk/taxonomy_terms/<term_id>",
        (),
        denied=404,
        anonymous=404,
    ),
    # Services for schools: everyone signed in browses; publishers and administrators publish.
    Case("GET", "/services/", "/services/", ALL_SIGNED_IN),
    Case("GET", "/services/?q=pay", "/services/", ALL_SIGNED_IN, htmx=True, anonymous=401),
    Case("GET", "/services/{service:Payroll}", "/services/<int:service_id>", ALL_SIGNED_IN),
    Case("GET", "/services/999999", "/services/<int:service_id>", ()),
    # Those who set the prices preview any school's (access.price_preview_schools); a school
    # asked for that is not one's own is shown one's own prices, or none.
    Case("GET", "/services/?school={school:125613}", "/services/", ALL_SIGNED_IN),
    Case(
        "GET",
        "/services/?school=999999",
        "/services/",
        ALL_SIGNED_IN,
        exceptions=(("la_admin", 404), ("publisher", 404)),
    ),
    Case(
        "GET",
        "/services/{service:Payroll}?school={school:125613}",
        "/services/<int:service_id>",
        ALL_SIGNED_IN,
    ),
    Case(
        "GET",
        "/services/{service:Payroll}?school=999999",
        "/services/<int:service_id>",
        ALL_SIGNED_IN,
        exceptions=(("la_admin", 404), ("publisher", 404)),
    ),
    Case("GET", "/services/new", "/services/new", EDITORS, denied=403),
    Case("POST", "/services/new", "/services/new", EDITORS, denied=403),
    Case(
        "GET",
        "/services/{service:Payroll}/edit",
        "/services/<int:service_id>/edit",
        EDITORS,
        denied=403,
    ),
    Case(
        "POST",
        "/services/{service:Payroll}/edit",
        "/services/<int:service_id>/edit",
        EDITORS,
        denied=403,
    ),
    Case(
        "GET",
        "/services/{service:Payroll}/offers",
        "/services/<int:service_id>/offers",
        EDITORS,
        denied=403,
    ),
    # Without a year to draft, the page comes back saying so.
    Case(
        "POST",
        "/services/{service:Payroll}/offers",
        "/services/<int:service_id>/offers",
        EDITORS,
        denied=403,
    ),
    Case(
        "GET",
        "/services/{service:Payroll}/offers/2027",
        "/services/<int:service_id>/offers/<int:year>",
        EDITORS,
        denied=403,
    ),
    Case(
        "POST",
        "/services/{service:Payroll}/offers/2027",
        "/services/<int:service_id>/offers/<int:year>",
        EDITORS,
        denied=403,
    ),
    Case(
        "GET",
        "/services/{service:Payroll}/offers/1999",
        "/services/<int:service_id>/offers/<int:year>",
        EDITORS,
        ok=404,
        denied=403,
    ),
    # A published offer's prices are locked: the editor is sent back to withdraw it first.
    Case(
        "GET",
        "/services/{service:Payroll}/offers/2027/options/new",
        "/services/<int:service_id>/offers/<int:year>/options/new",
        EDITORS,
        ok=303,
        denied=403,
    ),
    Case(
        "GET",
        "/services/{service:Payroll}/offers/2027/options/999999",
        "/services/<int:service_id>/offers/<int:year>/options/<int:option_id>",
        EDITORS,
        ok=404,
        denied=403,
    ),
    Case(
        "POST",
        "/services/{service:Payroll}/offers/2027/options/999999/delete",
        "/services/<int:service_id>/offers/<int:year>/options/<int:option_id>/delete",
        EDITORS,
        ok=404,
        denied=403,
    ),
    Case(
        "POST",
        "/services/{service:Payroll}/offers/2027/publish",
        "/services/<int:service_id>/offers/<int:year>/publish",
        EDITORS,
        ok=303,
        denied=403,
    ),
    Case(
        "POST",
        "/services/{service:Payroll}/offers/2027/withdraw",
        "/services/<int:service_id>/offers/<int:year>/withdraw",
        EDITORS,
        ok=303,
        denied=403,
    ),
    Case("GET", "/services/copy-year", "/services/copy-year", EDITORS, denied=403),
    Case("POST", "/services/copy-year", "/services/copy-year", EDITORS, denied=403),
    # A year's drafts, to publish many at once; posted with none ticked, it asks for some.
    Case("GET", "/services/drafts", "/services/drafts", EDITORS, denied=403),
    Case("GET", "/services/drafts?year=2027&select=all", "/services/drafts", EDITORS, denied=403),
    Case("POST", "/services/drafts", "/services/drafts", EDITORS, denied=403),
    # Buy-back: a school's choice by the policy's scope; preparing by school roles, submitting
    # by leaders (tested in test_buyback); windows and analysis for the council.
    Case(
        "GET",
        "/buy-back/",
        "/buy-back/",
        ("trust_lead", "publisher", "la_admin"),
        denied=403,
        exceptions=tuple((r, 302) for r in ("school_staff", "head_teacher", "academy_head")),
    ),
    Case(
        "GET",
        "/buy-back/{school:125601}",
        "/buy-back/<int:school_id>",
        (*OAKFIELD_USERS, *EDITORS),
        exceptions=refused(*NO_BUYBACK),
    ),
    # Submitting: only the head teacher (staff prepare, in the categories).
    Case(
        "POST",
        "/buy-back/{school:125601}",
        "/buy-back/<int:school_id>",
        OAKFIELD_USERS,
        exceptions=refused("school_staff", *COUNCIL),
    ),
    Case(
        "GET",
        "/buy-back/{school:125601}/categories/{category:Payroll}",
        "/buy-back/<int:school_id>/categories/<int:category_id>",
        (*OAKFIELD_USERS, *EDITORS),
        exceptions=refused(*NO_BUYBACK),
    ),
    Case(
        "POST",
        "/buy-back/{school:125601}/categories/{category:Payroll}",
        "/buy-back/<int:school_id>/categories/<int:category_id>",
        OAKFIELD_USERS,
        exceptions=refused(*COUNCIL),
    ),
    Case(
        "GET",
        "/buy-back/{school:140201}/categories/{category:Payroll}",
        "/buy-back/<int:school_id>/categories/<int:category_id>",
        ("academy_head", "trust_lead", *EDITORS),
        exceptions=refused(*NO_BUYBACK),
    ),
    Case(
        "GET",
        "/buy-back/{school:125601}/categories/999999",
        "/buy-back/<int:school_id>/categories/<int:category_id>",
        (),
        exceptions=refused(*NO_BUYBACK),
    ),
    Case(
        "GET",
        "/buy-back/{school:140201}",
        "/buy-back/<int:school_id>",
        ("academy_head", "trust_lead", *EDITORS),
        exceptions=refused(*NO_BUYBACK),
    ),
    Case(
        "GET",
        "/buy-back/{school:125601}/submissions/1",
        "/buy-back/<int:school_id>/submissions/<int:number>",
        (*OAKFIELD_USERS, *EDITORS),
        exceptions=refused(*NO_BUYBACK),
    ),
    Case(
        "GET",
        "/buy-back/{school:125601}/submissions/99",
        "/buy-back/<int:school_id>/submissions/<int:number>",
        (),
        exceptions=refused(*NO_BUYBACK),
    ),
    Case("GET", "/buy-back/windows/new", "/buy-back/windows/new", ("la_admin",), denied=403),
    Case("POST", "/buy-back/windows/new", "/buy-back/windows/new", ("la_admin",), denied=403),
    # A school person's choices as a spreadsheet (a trust lead's academies'); not the council's.
    Case(
        "GET",
        "/buy-back/choices.csv",
        "/buy-back/choices.csv",
        ("school_staff", "head_teacher", "academy_head", "trust_lead"),
        denied=403,
    ),
    # A window's own page for the council, and managing it for administrators. Last year's
    # windows have closed: changing, extending or closing one leads back to its page (303),
    # and its reminders are refused on the page (200).
    Case(
        "GET",
        "/buy-back/windows/{window:2027-maintained}",
        "/buy-back/windows/<int:window_id>",
        EDITORS,
        denied=403,
    ),
    Case(
        "GET",
        "/buy-back/windows/999999",
        "/buy-back/windows/<int:window_id>",
        EDITORS,
        ok=404,
        denied=403,
    ),
    *(
        Case(
            method,
            f"/buy-back/windows/{{window:2026-maintained}}/{action}",
            f"/buy-back/windows/<int:window_id>/{action}",
            ("la_admin",),
            ok=303,
            denied=403,
        )
        for action in ("edit", "deadline", "close")
        for method in ("GET", "POST")
    ),
    Case(
        "POST",
        "/buy-back/windows/{window:2026-maintained}/reminders",
        "/buy-back/windows/<int:window_id>/reminders",
        ("la_admin",),
        denied=403,
    ),
    Case(
        "GET",
        "/buy-back/windows/{window:2027-maintained}/analysis",
        "/buy-back/windows/<int:window_id>/analysis",
        EDITORS,
        denied=403,
    ),
    Case(
        "GET",
        "/buy-back/windows/{window:2027-maintained}/analysis.csv",
        "/buy-back/windows/<int:window_id>/analysis.csv",
        EDITORS,
        denied=403,
    ),
    Case(
        "GET",
        "/buy-back/windows/999999/analysis",
        "/buy-back/windows/<int:window_id>/analysis",
        EDITORS,
        ok=404,
        denied=403,
    ),
    # The whole year: the demo's 2026 windows, both closed, and a year with none.
    Case(
        "GET",
        "/buy-back/years/2026/analysis",
        "/buy-back/years/<int:year>/analysis",
        EDITORS,
        denied=403,
    ),
    Case(
        "GET",
        "/buy-back/years/1999/analysis",
        "/buy-back/years/<int:year>/analysis",
        EDITORS,
        ok=404,
        denied=403,
    ),
    # Administration and the audit log: council administrators only.
    Case("GET", "/admin/", "/admin/", ("la_admin",), denied=403),
    Case("GET", "/admin/audit", "/admin/audit", ("la_admin",), denied=403),
    Case(
        "GET",
        "/admin/audit?action=auth.",
        "/admin/audit",
        ("la_admin",),
        denied=403,
        htmx=True,
        anonymous=401,
    ),
    Case("GET", "/admin/audit.csv", "/admin/audit.csv", ("la_admin",), denied=403),
    # A person's own account. The e-mailed links' pages are open to anyone: a link shaped
    # like ours but never issued gets the "expired or used" page (410), anything else 404.
    Case("GET", "/account/forgot", "/account/forgot", EVERYONE),
    Case("POST", "/account/forgot", "/account/forgot", EVERYONE),
    Case("GET", f"/account/accept/{NO_TOKEN}", "/account/accept/<token>", EVERYONE, ok=410),
    Case("POST", f"/account/accept/{NO_TOKEN}", "/account/accept/<token>", EVERYONE, ok=410),
    Case("GET", "/account/accept/x", "/account/accept/<token>", (), anonymous=404),
    Case("POST", f"/account/decline/{NO_TOKEN}", "/account/decline/<token>", EVERYONE, ok=410),
    Case("POST", "/account/decline/x", "/account/decline/<token>", (), anonymous=404),
    Case("GET", f"/account/reset/{NO_TOKEN}", "/account/reset/<token>", EVERYONE, ok=410),
    Case("POST", f"/account/reset/{NO_TOKEN}", "/account/reset/<token>", EVERYONE, ok=410),
    Case("GET", "/account/reset/x", "/account/reset/<token>", (), anonymous=404),
    Case("GET", f"/account/unlock/{NO_TOKEN}", "/account/unlock/<token>", EVERYONE, ok=410),
    Case("POST", f"/account/unlock/{NO_TOKEN}", "/account/unlock/<token>", EVERYONE, ok=410),
    Case("GET", "/account/unlock/x", "/account/unlock/<token>", (), anonymous=404),
    Case("GET", "/account/password", "/account/password", ALL_SIGNED_IN),
    Case("POST", "/account/password", "/account/password", ALL_SIGNED_IN),
    # Users: head teachers their school's staff, trust leads their academies', administrators
    # everyone; another school's account is not found.
    Case("GET", "/users/", "/users/", MANAGERS, denied=403),
    Case("GET", "/users/?q=demo", "/users/", MANAGERS, denied=403, htmx=True, anonymous=401),
    Case("GET", "/users/invite", "/users/invite", MANAGERS, denied=403),
    Case("POST", "/users/invite", "/users/invite", MANAGERS, denied=403),
    Case(
        "GET",
        "/users/{user:staff@oakfield.example}",
        "/users/<int:user_id>",
        ("la_admin", "head_teacher"),
        denied=403,
        exceptions=(("academy_head", 404), ("trust_lead", 404)),
    ),
    Case(
        "GET",
        "/users/{user:head@riverside.example}",
        "/users/<int:user_id>",
        ("la_admin", "academy_head", "trust_lead"),
        denied=403,
        exceptions=(("head_teacher", 404),),
    ),
    Case("GET", "/users/999999", "/users/<int:user_id>", MANAGERS, ok=404, denied=403),
    # A school's one action on a person: removing their roles at its schools.
    Case(
        "POST",
        "/users/{user:staff@oakfield.example}/remove",
        "/users/<int:user_id>/remove",
        ("head_teacher",),
        ok=303,
        denied=403,
        exceptions=(("academy_head", 404), ("trust_lead", 404)),
    ),
    Case(
        "POST",
        "/users/999999/remove",
        "/users/<int:user_id>/remove",
        SCHOOL_LEADERS,
        ok=404,
        denied=403,
    ),
    # Deactivating and reactivating a whole account: council administrators only.
    Case(
        "POST",
        "/users/{user:staff@oakfield.example}/deactivate",
        "/users/<int:user_id>/deactivate",
        ("la_admin",),
        ok=303,
        denied=403,
    ),
    Case(
        "POST",
        "/users/{user:head@riverside.example}/reactivate",
        "/users/<int:user_id>/reactivate",
        ("la_admin",),
        ok=303,
        denied=403,
    ),
    Case(
        "POST",
        "/users/999999/deactivate",
        "/users/<int:user_id>/deactivate",
        ("la_admin",),
        ok=404,
        denied=403,
    ),
    # Unlocking an account that failed sign-ins locked: those who manage it. None of these
    # is locked, so each comes back to the person's page, told so.
    Case(
        "POST",
        "/users/{user:staff@oakfield.example}/unlock",
        "/users/<int:user_id>/unlock",
        ("la_admin", "head_teacher"),
        ok=303,
        denied=403,
        exceptions=(("academy_head", 404), ("trust_lead", 404)),
    ),
    Case(
        "POST",
        "/users/{user:head@riverside.example}/unlock",
        "/users/<int:user_id>/unlock",
        ("la_admin", "academy_head", "trust_lead"),
        ok=303,
        denied=403,
        exceptions=(("head_teacher", 404),),
    ),
    Case(
        "POST",
        "/users/999999/unlock",
        "/users/<int:user_id>/unlock",
        MANAGERS,
        ok=404,
        denied=403,
    ),
    # Invitations waiting for an answer: none in the demo, so one that is nobody's is not
    # found (tests/accounts/test_accounts.py covers another school's).
    Case(
        "GET",
        "/users/invitations/999999",
        "/users/invitations/<int:invitation_id>",
        MANAGERS,
        ok=404,
        denied=403,
    ),
    Case(
        "POST",
        "/users/invitations/999999/withdraw",
        "/users/invitations/<int:invitation_id>/withdraw",
        MANAGERS,
        ok=404,
        denied=403,
    ),
    # Resetting a lost authenticator app: council administrators only, for an account that
    # has one (school staff have none: back to their page, with the reason).
    Case(
        "GET",
        "/users/{user:caf.north@council.example}/two-factor/reset",
        "/users/<int:user_id>/two-factor/reset",
        ("la_admin",),
        denied=403,
    ),
    Case(
        "POST",
        "/users/{user:caf.north@council.example}/two-factor/reset",
        "/users/<int:user_id>/two-factor/reset",
        ("la_admin",),
        ok=303,
        denied=403,
    ),
    Case(
        "GET",
        "/users/{user:staff@oakfield.example}/two-factor/reset",
        "/users/<int:user_id>/two-factor/reset",
        ("la_admin",),
        ok=303,
        denied=403,
    ),
    Case(
        "GET",
        "/users/999999/two-factor/reset",
        "/users/<int:user_id>/two-factor/reset",
        ("la_admin",),
        ok=404,
        denied=403,
    ),
    # The schools register: council administrators only. No demo import exists, so an
    # import's pages are checked with an id that is no import's (tests/register/test_register.py
    # covers real ones). An upload with no file comes back with its error.
    Case("GET", "/register/", "/register/", ("la_admin",), denied=403),
    Case("POST", "/register/", "/register/", ("la_admin",), denied=403),
    Case(
        "GET",
        "/register/imports/999999",
        "/register/imports/<int:import_id>",
        ("la_admin",),
        ok=404,
        denied=403,
    ),
    Case(
        "GET",
        "/register/imports/999999",
        "/register/imports/<int:import_id>",
        ("la_admin",),
        ok=404,
        denied=403,
        htmx=True,
        anonymous=401,
    ),
    Case(
        "POST",
        "/register/imports/999999/apply",
        "/register/imports/<int:import_id>/apply",
        ("la_admin",),
        ok=404,
        denied=403,
    ),
    Case("GET", "/register/areas", "/register/areas", ("la_admin",), denied=403),
    Case(
        "GET",
        "/register/areas/{area:north}",
        "/register/areas/<int:area_id>",
        ("la_admin",),
        denied=403,
    ),
    Case(
        "POST",
        "/register/areas/{area:north}",
        "/register/areas/<int:area_id>",
        ("la_admin",),
        ok=303,
        denied=403,
    ),
    Case(
        "GET",
        "/register/areas/999999",
        "/register/areas/<int:area_id>",
        ("la_admin",),
        ok=404,
        denied=403,
    ),
    Case("GET", "/register/areas/assign", "/register/areas/assign", ("la_admin",), denied=403),
    Case(
        "POST",
        "/register/areas/assign",
        "/register/areas/assign",
        ("la_admin",),
        ok=303,
        denied=403,
    ),
    Case("GET", "/register/reviews", "/register/reviews", ("la_admin",), denied=403),
    Case(
        "POST",
        "/register/reviews/{school:125601}/clear",
        "/register/reviews/<int:school_id>/clear",
        ("la_admin",),
        ok=303,
        denied=403,
    ),
    Case(
        "POST",
        "/register/reviews/999999/clear",
        "/register/reviews/<int:school_id>/clear",
        ("la_admin",),
        ok=404,
        denied=403,
    ),
]

# Training's routes, a list per part of it (tests/access/training_*_cases.py).
CASES += [*BOOKING_CASES, *MANAGE_CASES, *ATTENDEE_CASES, *FUND_CASES, *REPORT_CASES]

# Rules that are not the portal's own pages.
NOT_PAGES = {"/static/<path:filename>"}


def test_every_route_is_in_the_matrix(app: Flask) -> None:
    rules = {rule.rule for rule in app.url_map.iter_rules()} - NOT_PAGES
    covered = {case.rule for case in CASES}
    assert rules - covered == set(), "routes with no access expectations"
    assert covered - rules == set(), "expectations for routes that no longer exist"


# Every route as every role: thousands of requests, left out of make test-fast.
@pytest.mark.slow
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(
    "case", CASES, ids=lambda c: f"{c.method} {c.path}{' htmx' if c.htmx else ''}"
)
def test_access(
    case: Case,
    role: str,
    browser_for: Callable[[str], FlaskClient],
    session,
) -> None:
    browser = browser_for(role)
    path = resolve(session, case.path)
    headers = {"HX-Request": "true"} if case.htmx else {}
    if case.method == "POST":
        data = {"csrf_token": csrf_token(browser, "/sign-in" if role == "anonymous" else "/")}
        response = browser.post(path, data=data, headers=headers)
    else:
        response = browser.get(path, headers=headers)
    body = response.get_data(as_text=True)
    response.close()
    assert response.status_code == case.expected(role), body[:500]
    # Whoever asks and whatever the answer, no browser or proxy keeps it (issue #16, 9).
    assert response.headers.get("Cache-Control") == "no-store"
    if response.status_code == 404:
        # Not found says nothing about the record that was asked for.
        assert "Page not found" in body
