"""Typed views of the parts of a spec an engine reads, with errors that name the field."""

from __future__ import annotations

from typing import Any, TypeVar

import pydantic

from fluidpy.engines.base.errors import ValidationError

Model = TypeVar("Model", bound=pydantic.BaseModel)


def parse_model(model: type[Model], data: Any, where: str) -> Model:
    """The typed view of part of a spec; a value of the wrong shape is a ValidationError
    naming the field, never a crash deeper in the engine."""
    try:
        return model.model_validate(data)
    except pydantic.ValidationError as error:
        first = error.errors()[0]
        location = ".".join(str(part) for part in first["loc"])
        field_path = f"{where}.{location}" if location else where
        raise ValidationError(field_path, first["msg"], "correct the value") from None
