"""End-of-life care (C8): register coverage, preferred place of death recorded and achieved,
place of death, emergency admissions and bed days in the last 90 days of life, and progress
towards "90% of people die where they chose"."""
