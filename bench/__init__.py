"""The load-test harness behind `make bench` (issue #8): journeys, a bare-layout baseline, and
the report. Never imported by the portal itself."""
