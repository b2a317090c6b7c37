"""Economics and prioritisation (C10): service catalogue, Green Book cost-benefit analysis
across organisations with a cost-shift matrix, sensitivity analysis, and programme
budgeting and marginal analysis (PBMA). Plain functions with explicit arguments; the CLI and
web pages call them."""
