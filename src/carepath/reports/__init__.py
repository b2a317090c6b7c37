"""Reports: locality packs and other printable outputs (HTML and PDF)."""
