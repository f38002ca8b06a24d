"""Offence codes and offence groups.

The packaged code table (``reference/offence_codes.csv``) lists the Home Office
notifiable-offence classification codes the workbench knows, with an offence family and
whether the offence is one of ONS's "selected offences" for knife crime statistics. A force
can pass its own table with the same columns. Groups (``reference/offence_groups.yaml``)
define the forecast targets from codes, families and flags.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import pandas as pd
import yaml

from analysis.data.errors import LoadError
from analysis.data.reading import read_csv_table

CODE_COLUMNS = ("code", "description", "family", "knife_selected", "violent")


def packaged_table(name: str) -> Path:
    """Path of a table the package ships (``offence_codes.csv``, ``offence_groups.yaml``)."""
    return Path(str(resources.files("analysis.data") / "reference" / name))


def load_offence_codes(path: str | Path | None = None) -> pd.DataFrame:
    """Read the offence code table.

    Parameters
    ----------
    path : str or Path, optional
        A force's own table (CSV with columns ``code, description, family,
        knife_selected, violent``); default the packaged table.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``code`` (string).

    Raises
    ------
    LoadError
        If the table lacks columns or repeats a code.
    """
    path = Path(path) if path else packaged_table("offence_codes.csv")
    table = read_csv_table(path, dtype=str, keep_default_na=False)
    missing = [c for c in CODE_COLUMNS if c not in table.columns]
    if missing:
        raise LoadError(path, f"offence code table lacks columns {missing}")
    table["code"] = table["code"].str.strip()
    if table["code"].duplicated().any():
        dups = sorted(table.loc[table["code"].duplicated(), "code"].unique())
        raise LoadError(path, f"offence code table repeats codes {dups}")
    for col in ("knife_selected", "violent"):
        table[col] = table[col].str.strip().str.lower().isin({"true", "1", "y", "yes"})
    return table.set_index("code")


@dataclass(frozen=True)
class Rule:
    """One way of belonging to a group: codes or families, plus required flag values."""

    codes: frozenset[str] = frozenset()
    families: frozenset[str] = frozenset()
    knife_selected_only: bool = False
    flags: dict[str, bool] = field(default_factory=dict)


@dataclass(frozen=True)
class OffenceGroup:
    """A forecast target defined from offence codes and flags."""

    name: str
    label: str
    description: str
    source: str
    default_cell_area_km2: float
    rules: tuple[Rule, ...]

    def codes(self, table: pd.DataFrame) -> set[str]:
        """Return every code that can belong to this group (flags aside)."""
        out: set[str] = set()
        for rule in self.rules:
            hit = table.index.isin(list(rule.codes)) | table["family"].isin(list(rule.families))
            if rule.knife_selected_only:
                hit &= table["knife_selected"].to_numpy()
            out.update(table.index[hit])
        return out

    def mask(self, crimes: pd.DataFrame, table: pd.DataFrame) -> pd.Series:
        """Return which crimes belong to the group.

        Parameters
        ----------
        crimes : pandas.DataFrame
            Needs ``offence_code`` and the boolean flag columns named in the rules
            (``knife``, ``injury``).
        table : pandas.DataFrame
            Offence code table from :func:`load_offence_codes`.
        """
        family = crimes["offence_code"].map(table["family"])
        selected = crimes["offence_code"].map(table["knife_selected"]).fillna(False)
        out = pd.Series(False, index=crimes.index)
        for rule in self.rules:
            hit = crimes["offence_code"].isin(list(rule.codes)) | family.isin(list(rule.families))
            if rule.knife_selected_only:
                hit &= selected.astype(bool)
            for flag, value in rule.flags.items():
                hit &= crimes[flag].fillna(False).astype(bool) == value
            out |= hit
        return out


def load_offence_groups(path: str | Path | None = None) -> dict[str, OffenceGroup]:
    """Read offence group definitions (YAML).

    Parameters
    ----------
    path : str or Path, optional
        A user's file with the packaged file's schema; default the packaged groups.

    Returns
    -------
    dict of str to OffenceGroup

    Raises
    ------
    LoadError
        If the file is not valid YAML or a group is malformed.
    """
    path = Path(path) if path else packaged_table("offence_groups.yaml")
    try:
        spec = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise LoadError(path, f"cannot read offence groups ({exc})") from exc
    if not isinstance(spec, dict) or not isinstance(spec.get("groups"), dict):
        raise LoadError(path, "offence groups file needs a top-level 'groups' mapping")
    groups: dict[str, OffenceGroup] = {}
    for name, g in spec["groups"].items():
        if not isinstance(g, dict) or not g.get("rules"):
            raise LoadError(path, f"group {name!r} needs a non-empty 'rules' list")
        rules = []
        for r in g["rules"]:
            unknown = set(r) - {"codes", "families", "knife_selected_only", "flags"}
            if unknown:
                raise LoadError(path, f"group {name!r} has unknown rule keys {sorted(unknown)}")
            rules.append(
                Rule(
                    codes=frozenset(str(c) for c in r.get("codes", [])),
                    families=frozenset(r.get("families", [])),
                    knife_selected_only=bool(r.get("knife_selected_only", False)),
                    flags={str(k): bool(v) for k, v in (r.get("flags") or {}).items()},
                )
            )
        groups[name] = OffenceGroup(
            name=name,
            label=g.get("label", name),
            description=" ".join(str(g.get("description", "")).split()),
            source=" ".join(str(g.get("source", "")).split()),
            default_cell_area_km2=float(g.get("default_cell_area_km2", 1.0)),
            rules=tuple(rules),
        )
    return groups
