"""Outputs people take away: locality packs (HTML and PDF), exports of indicator values
(Fingertips layout, public or analysts'), and `carepath info`'s account of a workspace."""
