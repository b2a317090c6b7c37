"""Experience (C9): survey scoring (% positive per question, summary scores), case-mix
adjustment by indirect standardisation, suppression of small respondent numbers, and
reshaping national-survey (one row per respondent) files to the long table."""
