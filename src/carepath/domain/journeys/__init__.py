"""Whole journeys (C8): a person's timeline across providers, pathway waits, people who fell
between services, Recovery Package and stratified follow-up coverage with an equity view,
HNA concerns, routes through the pathway and data-quality findings.

Every function takes explicit arguments (a DuckDB connection or a workspace, dates, and for
person-level output the caller's authority), so the CLI and web pages stay thin.
"""
