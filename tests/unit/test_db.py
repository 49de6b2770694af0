import pytest

from bidding.db import Migration, MigrationError, load_migrations, packaged_migrations, plan_migrations


def test_migrations_are_ordered_by_number() -> None:
    migrations = load_migrations([("0002_b.sql", "B"), ("0001_a.sql", "A")])
    assert [(m.version, m.sql) for m in migrations] == [(1, "A"), (2, "B")]


def test_numbers_may_skip_those_handed_out_to_work_not_merged_yet() -> None:
    migrations = load_migrations([("0009_c.sql", "C"), ("0001_a.sql", "A")])
    assert [m.version for m in migrations] == [1, 9]


@pytest.mark.parametrize(
    ("files", "text"),
    [
        ([("0001_a.sql", ""), ("0001_b.sql", "")], "two migrations are numbered 1"),
        ([("1_a.sql", "")], "not named like"),
        ([("0001_A.sql", "")], "not named like"),
        ([("0001_a.txt.sql", "")], "not named like"),
    ],
)
def test_duplicates_and_bad_names_are_refused(files: list[tuple[str, str]], text: str) -> None:
    with pytest.raises(MigrationError, match=text):
        load_migrations(files)


def test_the_plan_skips_what_was_applied() -> None:
    a, b = Migration(1, "0001_a.sql", "A"), Migration(2, "0002_b.sql", "B")
    assert plan_migrations([a, b], [(1, a.name, a.checksum)]) == [b]
    assert plan_migrations([a, b], []) == [a, b]


def test_a_migration_edited_after_it_was_applied_is_refused() -> None:
    a = Migration(1, "0001_a.sql", "A")
    with pytest.raises(MigrationError, match="changed after it was applied"):
        plan_migrations([a], [(1, a.name, Migration(1, a.name, "A2").checksum)])


def test_a_database_migrated_by_newer_code_is_refused() -> None:
    a = Migration(1, "0001_a.sql", "A")
    with pytest.raises(MigrationError, match="does not know"):
        plan_migrations([a], [(1, a.name, a.checksum), (2, "0002_b.sql", b"")])


def test_the_packaged_migrations_load() -> None:
    migrations = packaged_migrations()
    versions = [m.version for m in migrations]
    assert versions[0] == 1 and versions == sorted(set(versions))
