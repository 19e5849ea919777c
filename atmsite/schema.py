"""OpenAPI generation: name nested Input/Output serializers after the API class that holds them.

The house style nests `InputSerializer` / `OutputSerializer` in each APIView; by default they would all become
the same "Input" component and overwrite each other in the schema.
"""

from __future__ import annotations

from typing import Any, Literal

from drf_spectacular.openapi import AutoSchema


class NestedSerializerNamingSchema(AutoSchema):
    def get_serializer_name(self, serializer: Any, direction: Literal["request", "response"]) -> str:
        cls = serializer if isinstance(serializer, type) else type(serializer)
        outer, _, inner = cls.__qualname__.rpartition(".")
        if outer and "<locals>" not in outer:
            return outer.removesuffix("Api").removesuffix("View") + inner.removesuffix("Serializer")
        return super().get_serializer_name(serializer, direction)
