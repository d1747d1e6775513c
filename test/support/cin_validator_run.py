"""
Runs the community CIN census validator (csc-validator-be-cin) on one XML file and prints
its findings as JSON. It does what the package's command line `run` does (convert_data,
process_data, CinValidator over a ruleset's registry), but prints every finding instead of
a truncated table: the command line leaves out the LA-level findings and rules that crash.

usage: python cin_validator_run.py FILE RULESET
"""
import contextlib
import importlib
import io
import json
import sys
import warnings
import xml.etree.ElementTree as ET

warnings.simplefilter("ignore")

import pandas as pd  # noqa: E402
from cin_validator import cin_validator  # noqa: E402


def text(value):
    """A cell as text, or None where pandas holds nothing."""
    return None if value is None or (not isinstance(value, (list, tuple)) and pd.isna(value)) else str(value)


def main(filename: str, ruleset: str) -> None:
    root = ET.parse(filename).getroot()
    data_files = cin_validator.process_data(cin_validator.convert_data(root))
    registry = getattr(importlib.import_module(f"cin_validator.rules.{ruleset}"), "registry")
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        validator = cin_validator.CinValidator(data_files, registry)

    kinds = {str(rule.code): rule.rule_type.name for _, rule in registry.items()}
    child_level = []
    for row in validator.full_issue_df.to_dict(orient="records"):
        code = str(row.get("rule_code"))
        child_level.append(
            {
                "rule": code,
                "kind": kinds.get(code, "ERROR"),
                "childId": text(row.get("child_id")),
                "table": text(row.get("tables_affected")),
                "column": text(row.get("columns_affected")),
                "message": str(row.get("rule_description")),
            }
        )
    la_level = []
    seen = set()
    for row in validator.multichild_issues.to_dict(orient="records"):
        code = str(row.get("rule_code"))
        if code in seen:
            continue
        seen.add(code)
        la_level.append({"rule": code, "kind": kinds.get(code, "ERROR"), "message": str(row.get("rule_description"))})
    crashes = [line for line in printed.getvalue().splitlines() if line.startswith("Error with rule")]
    json.dump(
        {
            "ruleset": ruleset,
            "rulesRun": len(kinds),
            "children": int(len(data_files["ChildIdentifiers"])),
            "childLevel": child_level,
            "laLevel": la_level,
            "crashes": crashes,
        },
        sys.stdout,
    )


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
