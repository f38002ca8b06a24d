"""The data-folder contract: every file a run may read, validated once and handed on.

A data folder holds a force's extracts and the geography that goes with them. This module
is the only place that names those files (:data:`FOLDER_FILES`) and the only place that
opens them: the rest of the package receives the accepted frames through
:class:`FolderData`.

=================  ===================================  ==========================
role               file                                 needed by
=================  ===================================  ==========================
``crimes``         ``crimes.csv.gz`` (or ``.csv``)       forecasts, data quality
``charges``        ``charges.csv.gz`` (or ``.csv``)      harm model, data quality
``study_area``     ``study_area.geojson``               forecasts (points outside
                                                        are quarantined)
``lsoa``           ``lsoa.geojson``                     deprivation profile
``lsoa_units``     ``lsoa_to_lom_unit.csv``             harm model's unit effects
``offence_groups`` ``offence_groups.yaml``              forecast targets (default:
                                                        the packaged groups)
``offence_codes``  ``offence_codes.csv``                code table (default: the
                                                        packaged table)
``truth``          ``truth/escalation.csv.gz``          synthetic data only
``lsoa_ethnicity`` ``lsoa_ethnicity.csv`` (Census 2021   forecast disparities by the
                   TS021, either ONS shape)             areas' ethnic composition
``synthetic``      ``sample.json``                      the generator's record: its
                                                        presence marks the folder's
                                                        data as synthetic
``deployment``     ``deployment.yaml``                  the force's facts for the
                                                        committee summary (owner,
                                                        contact, phase, DPIA, ...)
=================  ===================================  ==========================

Every file but ``crimes`` is optional. A run validates the folder once under one set of
:class:`~analysis.data.options.LoadOptions` (as-of date, pseudonym key, duplicate rules) and
hands the result on; in the monthly run the validated frames are kept for the run's
notebooks in the run's restricted folder (:meth:`FolderData.save`,
:func:`open_validated`) and removed when the run is published.
"""

from __future__ import annotations

import json
import pickle
from dataclasses import dataclass, field, replace
from pathlib import Path

import geopandas as gpd
import pandas as pd
import yaml

from analysis.data.census import load_ts021
from analysis.data.coordinates import read_geo
from analysis.data.errors import LoadError
from analysis.data.loaders import load_charges, load_crimes
from analysis.data.offences import (
    OffenceGroup,
    load_offence_codes,
    load_offence_groups,
    packaged_table,
)
from analysis.data.options import LoadOptions
from analysis.data.reading import file_sha256, read_csv_table, read_table
from analysis.data.result import LoadResult
from analysis.data.truth import load_escalation_truth

#: The files of a data folder by role, each with the names tried in order.
FOLDER_FILES: dict[str, tuple[str, ...]] = {
    "crimes": ("crimes.csv.gz", "crimes.csv"),
    "charges": ("charges.csv.gz", "charges.csv"),
    "study_area": ("study_area.geojson",),
    "lsoa": ("lsoa.geojson",),
    "lsoa_units": ("lsoa_to_lom_unit.csv",),
    "offence_groups": ("offence_groups.yaml",),
    "offence_codes": ("offence_codes.csv",),
    "truth": ("truth/escalation.csv.gz",),
    "lsoa_ethnicity": ("lsoa_ethnicity.csv", "census2021-ts021-lsoa.csv"),
    "synthetic": ("sample.json",),
    "deployment": ("deployment.yaml",),
}
#: Roles a folder must have (by default).
REQUIRED = ("crimes",)
#: The roles validated row by row under a data contract.
CONTRACTS = ("crimes", "charges")
#: Columns of the LSOA-to-unit table.
UNIT_COLUMNS = ("lsoa21cd", "lom_unit")
#: File of the validated frames kept for a run's notebooks.
VALIDATED_FILE = "validated.pkl"


def file_names() -> set[str]:
    """Every file name (and relative path) the contract knows, for scans and tests."""
    names = set()
    for options in FOLDER_FILES.values():
        for name in options:
            names.update({name, Path(name).name})
    return names


@dataclass(frozen=True)
class DataFolder:
    """Where each file of a data folder is (``None`` for an absent optional file).

    Attributes
    ----------
    root : Path
        The folder.
    paths : dict of str to Path or None
        The file of each role of :data:`FOLDER_FILES`; a file given on the command line
        (``--offence-groups FILE``) replaces the folder's.
    """

    root: Path
    paths: dict[str, Path | None]

    @classmethod
    def locate(
        cls,
        root: str | Path,
        *,
        require: tuple[str, ...] = REQUIRED,
        **overrides: str | Path | None,
    ) -> DataFolder:
        """Find the files of a folder.

        Parameters
        ----------
        root : str or Path
            The data folder.
        require : tuple of str
            Roles that must be present (default the crimes; the harm model needs only the
            charges).
        **overrides : path, optional
            A file per role replacing the folder's (``offence_groups=...``,
            ``offence_codes=...``, ``lsoa_units=...``, ``truth=...``).

        Raises
        ------
        LoadError
            If the folder or a required file is missing, an override names a missing
            file, or an override's role is unknown.
        """
        root = Path(root)
        if not root.is_dir():
            raise LoadError(root, "data folder not found (or not a folder)")
        unknown = set(overrides) - set(FOLDER_FILES)
        if unknown:
            raise ValueError(f"unknown data-folder roles {sorted(unknown)}")
        paths: dict[str, Path | None] = {}
        for role, names in FOLDER_FILES.items():
            given = overrides.get(role)
            if given is not None:
                if not Path(given).is_file():
                    raise LoadError(given, f"{role.replace('_', ' ')} file not found")
                paths[role] = Path(given)
                continue
            found = [root / n for n in names if (root / n).is_file()]
            paths[role] = found[0] if found else None
        for role in require:
            if paths[role] is None:
                raise LoadError(root, f"data folder has no {' or '.join(FOLDER_FILES[role])}")
        return cls(root=root, paths=paths)

    def has(self, role: str) -> bool:
        """Whether the folder holds (or was given) the file of ``role``."""
        return self.paths.get(role) is not None

    def hashes(self) -> dict[str, str]:
        """SHA-256 of every file the run may read, by role.

        The offence groups and code table are hashed as used: the folder's or the given
        file, else the packaged one (``packaged:`` prefix).
        """
        out = {}
        for role, path in self.paths.items():
            if path is not None:
                out[role] = file_sha256(path)
            elif role in ("offence_groups", "offence_codes"):
                name = "offence_groups.yaml" if role == "offence_groups" else "offence_codes.csv"
                out[role] = "packaged:" + file_sha256(packaged_table(name))
        return out

    def described(self) -> dict[str, str | None]:
        """Each role's file as a path relative to the folder (or its given path)."""
        out: dict[str, str | None] = {}
        for role, path in self.paths.items():
            if path is None:
                out[role] = None
            elif path.is_relative_to(self.root):
                out[role] = str(path.relative_to(self.root))
            else:
                out[role] = str(path)
        return out

    def person_ids_raw(self, options: LoadOptions) -> set[str]:
        """The person identifiers as they stand in the charges file (before any key).

        Read field by field (no validation), for the privacy scan only: with a key set these
        are the identifiers that must never be published.
        """
        path = self.paths.get("charges")
        if path is None:
            return set()
        raw = read_table(path, delimiter=options.delimiter, encoding=options.encoding)
        if "person_id" not in raw.records:
            return set()
        ids = raw.records["person_id"].astype(str).str.strip()
        return {i for i in ids if i}

    def load(
        self, options: LoadOptions | None = None, *, contracts: tuple[str, ...] = CONTRACTS
    ) -> FolderData:
        """Validate every file once under ``options`` and return the accepted frames.

        Parameters
        ----------
        options : LoadOptions, optional
            One set of rules for every file (as-of date, pseudonym key, duplicate rules).
            The study area, when the folder has one, checks the crimes' coordinates; the
            offence code table is the folder's or the given one.
        contracts : tuple of str
            Which of the crimes and charges to validate (those present; default both).

        Returns
        -------
        FolderData
        """
        options = options or LoadOptions()
        codes_path = self.paths["offence_codes"]
        options = replace(
            options,
            area=self.paths["study_area"] if options.area is None else options.area,
            offence_codes=codes_path if options.offence_codes is None else options.offence_codes,
        )
        crimes = charges = None
        if "crimes" in contracts and self.has("crimes"):
            crimes = load_crimes(self.paths["crimes"], options)
        if "charges" in contracts and self.has("charges"):
            charges = load_charges(self.paths["charges"], options)
        study_area = None
        if self.has("study_area"):
            study_area = read_geo(self.paths["study_area"]).to_crs("EPSG:27700").geometry
        lsoa = None
        if self.has("lsoa"):
            lsoa = read_geo(self.paths["lsoa"]).to_crs("EPSG:27700")
        return FolderData(
            folder=self,
            options=options,
            crimes=crimes,
            charges=charges,
            study_area=study_area,
            lsoa=lsoa,
            lsoa_units=self._units(),
            offence_groups=load_offence_groups(self.paths["offence_groups"]),
            offence_codes=load_offence_codes(options.offence_codes),
            truth=load_escalation_truth(self.paths["truth"]) if self.has("truth") else None,
            hashes=self.hashes(),
            pseudonymised_on_load=options.pseudonym_key is not None,
            lsoa_ethnicity=(
                load_ts021(self.paths["lsoa_ethnicity"]) if self.has("lsoa_ethnicity") else None
            ),
            synthetic=self.has("synthetic"),
            deployment=self._deployment(),
        )

    def _deployment(self) -> dict[str, str]:
        path = self.paths["deployment"]
        if path is None:
            return {}
        try:
            values = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            raise LoadError(path, f"not valid YAML: {exc}") from None
        if not isinstance(values, dict):
            raise LoadError(path, "expected a mapping of field names to text")
        return {str(k): str(v) for k, v in values.items() if v is not None}

    def _units(self) -> pd.Series | None:
        path = self.paths["lsoa_units"]
        if path is None:
            return None
        table = read_csv_table(path, dtype=str)
        missing = [c for c in UNIT_COLUMNS if c not in table.columns]
        if missing:
            raise LoadError(path, f"LSOA-to-unit table lacks columns {missing}")
        return table.set_index("lsoa21cd")["lom_unit"]


@dataclass
class FolderData:
    """The validated contents of a data folder.

    Attributes
    ----------
    folder : DataFolder
        Where the files are.
    options : LoadOptions
        The rules they were validated under (one set for every file).
    crimes, charges : LoadResult or None
        Accepted and quarantined rows (None when the folder has none or they were not
        asked for).
    study_area : geopandas.GeoSeries or None
        Study-area polygon(s) in British National Grid.
    lsoa : geopandas.GeoDataFrame or None
        LSOA geography (``lsoa21cd``, ``imd_rank``, ...) in British National Grid.
    lsoa_units : pandas.Series or None
        Offender-management unit of each LSOA.
    offence_groups : dict of str to OffenceGroup
        The forecast targets.
    offence_codes : pandas.DataFrame
        The offence code table.
    truth : pandas.DataFrame or None
        Synthetic escalation truth.
    hashes : dict of str to str
        SHA-256 of each file read, by role.
    pseudonymised_on_load : bool
        Whether person identifiers were replaced by a keyed hash on load (the key itself
        is never kept).
    lsoa_ethnicity : pandas.DataFrame or None
        Census 2021 TS021 shares of each high-level ethnic group per LSOA
        (:func:`analysis.data.census.load_ts021`).
    synthetic : bool
        Whether the folder holds synthetic data (it carries the generator's record).
    deployment : dict of str to str
        The force's facts for the committee summary (``deployment.yaml``; empty if none).
    """

    folder: DataFolder
    options: LoadOptions
    crimes: LoadResult | None
    charges: LoadResult | None
    study_area: gpd.GeoSeries | None
    lsoa: gpd.GeoDataFrame | None
    lsoa_units: pd.Series | None
    offence_groups: dict[str, OffenceGroup]
    offence_codes: pd.DataFrame
    truth: pd.DataFrame | None
    hashes: dict[str, str] = field(default_factory=dict)
    pseudonymised_on_load: bool = False
    lsoa_ethnicity: pd.DataFrame | None = None
    synthetic: bool = False
    deployment: dict[str, str] = field(default_factory=dict)

    def person_ids(self) -> set[str]:
        """Person identifiers as published by this run (keyed when a key was set)."""
        if self.charges is None:
            return set()
        ids = set(self.charges.accepted["person_id"].dropna().astype(str))
        if "person_id" in self.charges.rejected:
            ids |= set(self.charges.rejected["person_id"].dropna().astype(str))
        return {i for i in ids if i}

    def summaries(self) -> dict[str, dict[str, object]]:
        """The reconciliation of each validated file, by role."""
        pairs = (("crimes", self.crimes), ("charges", self.charges))
        return {role: r.summary() for role, r in pairs if r is not None}

    def save(self, folder: str | Path) -> Path:
        """Keep the validated frames for the run's later steps (restricted: person-level).

        The pseudonym key is not kept.
        """
        out = Path(folder)
        out.mkdir(parents=True, exist_ok=True)
        path = out / VALIDATED_FILE
        kept = replace(self, options=replace(self.options, pseudonym_key=None))
        with path.open("wb") as fh:
            pickle.dump(kept, fh, protocol=pickle.HIGHEST_PROTOCOL)
        (out / "validated.json").write_text(
            json.dumps({"files": self.folder.described(), "hashes": self.hashes}, indent=2) + "\n"
        )
        return path


def open_validated(path: str | Path) -> FolderData:
    """Open the frames a run validated (:meth:`FolderData.save`): nothing is re-validated.

    Parameters
    ----------
    path : str or Path
        The file :meth:`FolderData.save` wrote (or its folder).
    """
    path = Path(path)
    if path.is_dir():
        path = path / VALIDATED_FILE
    with path.open("rb") as fh:
        data = pickle.load(fh)  # the run's own file, in its restricted folder
    if not isinstance(data, FolderData):
        raise LoadError(path, "not a validated data folder")
    return data
