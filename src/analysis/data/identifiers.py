"""Whether a run may read person identifiers, and how it says what it did with them.

A run that reads person identifiers (the charges file) needs the pseudonym key
(``ANALYSIS_PSEUDONYM_KEY``), so that every identifier is replaced by a keyed hash on load.
Two cases go without it, and the run records which: the extract's identifiers are already
pseudonyms made by the force (the user says so with ``--identifiers-already-pseudonymised``),
or the data folder is synthetic (its identifiers were invented by the generator).
"""

from __future__ import annotations

from enum import StrEnum

from analysis.data.pseudonymise import KEY_ENV


class IdentifierState(StrEnum):
    """What a run did with person identifiers."""

    KEYED = "keyed on load"
    ALREADY = "already pseudonymised (stated by the user; not keyed by this run)"
    SYNTHETIC = "synthetic (invented by the sample generator; not keyed by this run)"
    NONE = "no person identifiers read"


class MissingKeyError(ValueError):
    """A run would read person identifiers with no key and no statement that it need not."""


def identifier_state(
    *,
    reads_people: bool,
    key: bytes | None,
    already_pseudonymised: bool = False,
    synthetic: bool = False,
) -> IdentifierState:
    """Decide how the run treats person identifiers, or refuse to run.

    Parameters
    ----------
    reads_people : bool
        Whether the run reads a file of person identifiers.
    key : bytes, optional
        The pseudonym key.
    already_pseudonymised : bool
        The user states that the identifiers are pseudonyms already.
    synthetic : bool
        The data folder is synthetic.

    Raises
    ------
    MissingKeyError
        If identifiers would be read as they are with neither statement.
    """
    if not reads_people:
        return IdentifierState.NONE
    if key is not None:
        return IdentifierState.KEYED
    if already_pseudonymised:
        return IdentifierState.ALREADY
    if synthetic:
        return IdentifierState.SYNTHETIC
    raise MissingKeyError(
        f"the charges file holds person identifiers and no pseudonym key is set: set "
        f"{KEY_ENV}, or pass --identifiers-already-pseudonymised if the extract's "
        "identifiers are pseudonyms already"
    )
