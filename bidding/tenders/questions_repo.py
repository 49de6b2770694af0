"""SQL for bidders' questions, their answers, and the corrections of answers."""

from __future__ import annotations

from bidding.db import Connection
from bidding.tenders.model import Correction, Question


async def select_pseudonym_order(
    connection: Connection, tender_id: int, organisation_id: int
) -> tuple[str | None, int]:
    """The pseudonym an organisation already has for a tender, if any, and how many askers there are."""
    row = await connection.fetchrow(
        """SELECT (SELECT pseudonym FROM tender_questions WHERE tender_id = $1 AND organisation_id = $2 LIMIT 1)
                      AS pseudonym,
                  (SELECT count(DISTINCT organisation_id) FROM tender_questions WHERE tender_id = $1) AS askers""",
        tender_id,
        organisation_id,
    )
    assert row is not None, "a SELECT without FROM returns one row"
    return row["pseudonym"], row["askers"]


async def insert_question(
    connection: Connection, tender_id: int, organisation_id: int, user_id: int, pseudonym: str, text: str
) -> int:
    question_id: int = await connection.fetchval(
        """INSERT INTO tender_questions (tender_id, organisation_id, asked_by, pseudonym, question)
           VALUES ($1, $2, $3, $4, $5) RETURNING id""",
        tender_id,
        organisation_id,
        user_id,
        pseudonym,
        text,
    )
    return question_id


async def select_questions(connection: Connection, tender_id: int, *, answered_only: bool) -> list[Question]:
    rows = await connection.fetch(
        """SELECT id, pseudonym, question, asked_at, answer, answered_at, organisation_id FROM tender_questions
           WHERE tender_id = $1 AND (NOT $2 OR answer IS NOT NULL) ORDER BY id""",
        tender_id,
        answered_only,
    )
    return [Question(**dict(row)) for row in rows]


async def lock_question(connection: Connection, question_id: int) -> tuple[int, Question] | None:
    """A question and the tender it is about, locked until the transaction ends."""
    row = await connection.fetchrow(
        """SELECT tender_id, id, pseudonym, question, asked_at, answer, answered_at, organisation_id
           FROM tender_questions WHERE id = $1 FOR UPDATE""",
        question_id,
    )
    if row is None:
        return None
    values = dict(row)
    return values.pop("tender_id"), Question(**values)


async def answer_question(connection: Connection, question_id: int, answer: str, user_id: int) -> bool:
    """Record an answer; ``False`` if the question was answered already."""
    status: str = await connection.execute(
        """UPDATE tender_questions SET answer = $2, answered_by = $3, answered_at = now()
           WHERE id = $1 AND answer IS NULL""",
        question_id,
        answer,
        user_id,
    )
    return status == "UPDATE 1"


async def insert_correction(connection: Connection, question_id: int, answer: str, user_id: int) -> Correction:
    row = await connection.fetchrow(
        """INSERT INTO tender_answer_corrections (question_id, answer, corrected_by) VALUES ($1, $2, $3)
           RETURNING id, question_id, answer, corrected_at""",
        question_id,
        answer,
        user_id,
    )
    assert row is not None, "an INSERT … RETURNING returns its row"
    return Correction(**dict(row))


async def select_corrections(connection: Connection, tender_id: int) -> dict[int, list[Correction]]:
    """The corrections of a tender's answers, by question, oldest first (the newest is the answer in force)."""
    rows = await connection.fetch(
        """SELECT c.id, c.question_id, c.answer, c.corrected_at
           FROM tender_answer_corrections c JOIN tender_questions q ON q.id = c.question_id
           WHERE q.tender_id = $1 ORDER BY c.id""",
        tender_id,
    )
    corrections: dict[int, list[Correction]] = {}
    for row in rows:
        corrections.setdefault(row["question_id"], []).append(Correction(**dict(row)))
    return corrections
