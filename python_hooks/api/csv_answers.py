"""CSV answers (``?format=csv``): the rows of a JSON answer as one CSV table, with the csv module.

The rows and columns are the JSON's: each row of the answer is one CSV row; a
row's nested objects (``totals``, ``denominators``, ``provisional``) become
columns named ``<object>.<field>``. NULL is an empty cell, a boolean ``true`` or
``false``, a number as in the JSON. The header comes from the response model, so
that an empty answer still has its columns.
"""

from __future__ import annotations

import csv
import io
import json
import re
from typing import Any, Callable

from fastapi.responses import Response
from pydantic import BaseModel

CSV = "text/csv; charset=utf-8"


def flatten(item: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """A JSON object with its nested objects' fields as ``<object>.<field>`` keys."""
    flat: dict[str, Any] = {}
    for key, value in item.items():
        if isinstance(value, dict):
            flat.update(flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def model_columns(model: type[BaseModel], prefix: str = "") -> list[str]:
    """The CSV columns of a response model's rows: its fields, nested models flattened as in flatten()."""
    columns: list[str] = []
    for name, field in model.model_fields.items():
        kind = field.annotation
        if isinstance(kind, type) and issubclass(kind, BaseModel):
            columns += model_columns(kind, f"{prefix}{name}.")
        else:
            columns.append(f"{prefix}{name}")
    return columns


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else json.dumps(value)


def file_name(*parts: Any) -> str:
    """A download's file name of ``parts`` (ids made safe for a file name)."""
    return "_".join(re.sub(r"[^A-Za-z0-9._-]+", "-", str(part)) for part in parts if part is not None) + ".csv"


def csv_response(json_body: bytes, rows: Callable[[Any], list[dict[str, Any]]], columns: list[str],
                 filename: str) -> Response:
    """The CSV of the rows ``rows(answer)`` of a JSON answer, under the header ``columns``."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(columns)
    for row in rows(json.loads(json_body)):
        flat = flatten(row)
        if list(flat) != columns:
            raise RuntimeError(f"a CSV row has the columns {list(flat)}, not the header's {columns}")
        writer.writerow([_cell(flat[column]) for column in columns])
    return Response(content=buffer.getvalue().encode("utf-8"), media_type=CSV,
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})
