"""Made-up data for a demo and for load tests, kept apart from the portal that serves it.

- ``demo``: a small fictional county council (``flask --app portal seed-demo``), the one the
  README's demo accounts and the tests sign in to; ``services`` is its offer to schools.
- ``scale``: a large council's worth of invented schools, people and records on top of the
  demo (``flask --app portal seed-scale``), for the query budget and the load tests.

Their data (names, schools, services, prices) is in ``data/``, read with importlib.resources.
The commands are defined in ``commands`` and added to the portal's command line by
``portal.cli``; nothing else in ``portal`` imports this package.
"""
