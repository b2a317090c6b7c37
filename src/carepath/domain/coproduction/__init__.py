"""Co-production (C9): co-design events and who took part, pledges, workstreams and their
progress, and which outcomes were co-designed where."""
