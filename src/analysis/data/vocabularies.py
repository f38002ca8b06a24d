"""Controlled vocabularies of the data contracts."""

from __future__ import annotations

#: police.uk street-level crime categories (the public release's ``Crime type``).
POLICEUK_CRIME_TYPES = (
    "Anti-social behaviour",
    "Bicycle theft",
    "Burglary",
    "Criminal damage and arson",
    "Drugs",
    "Other crime",
    "Other theft",
    "Possession of weapons",
    "Public order",
    "Robbery",
    "Shoplifting",
    "Theft from the person",
    "Vehicle crime",
    "Violence and sexual offences",
)

#: police.uk header, in order.
POLICEUK_COLUMNS = (
    "Crime ID",
    "Month",
    "Reported by",
    "Falls within",
    "Longitude",
    "Latitude",
    "Location",
    "LSOA code",
    "LSOA name",
    "Crime type",
    "Last outcome category",
    "Context",
)

#: Charge outcomes: canonical value for each accepted spelling.
CHARGE_OUTCOMES = {
    "convicted": "convicted",
    "acquitted": "acquitted",
    "no further action": "no_further_action",
    "no_further_action": "no_further_action",
    "nfa": "no_further_action",
    "pending": "pending",
}

#: Sex as recorded: male, female, other (X) and unknown (U).
SEX_CODES = ("M", "F", "X", "U")

#: Police self-defined ethnicity codes (the 18+1 classification) and their broad group.
ETHNICITY_GROUPS = {
    "W1": "White",
    "W2": "White",
    "W3": "White",
    "W4": "White",
    "W9": "White",
    "M1": "Mixed",
    "M2": "Mixed",
    "M3": "Mixed",
    "M9": "Mixed",
    "A1": "Asian",
    "A2": "Asian",
    "A3": "Asian",
    "A4": "Asian",
    "A9": "Asian",
    "B1": "Black",
    "B2": "Black",
    "B9": "Black",
    "O1": "Other",
    "O9": "Other",
    "NS": "Not stated",
}

#: LSOA code pattern (England E01, Wales W01).
LSOA_PATTERN = r"^[EW]01\d{6}$"

#: Youngest age of criminal responsibility in England and Wales.
MIN_AGE = 10
MAX_AGE = 100
