"""Documents generated from code must be current (run `make docs` to refresh)."""

from carepath import docs_gen


def test_generated_docs_are_current():
    assert docs_gen.stale() == [], "run `make docs` and commit the result"


def test_data_model_doc_lists_every_column():
    from carepath.model.schema import ALL_TABLES

    text = docs_gen.data_model_md()
    for t in ALL_TABLES:
        assert f"### `{t.name}`" in text
        for c in t.columns:
            assert f"| `{c.name}` |" in text
