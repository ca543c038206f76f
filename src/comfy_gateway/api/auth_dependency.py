"""Who is calling: the API key of a request, and the tenant it belongs to.

A key may come as ``X-API-Key``, ``Authorization: Bearer``, or ``?api_key=`` (the only
way for a browser's EventSource, which cannot set headers). With no keys configured the
registry is open and every caller is tenant ``default``. The dependencies are async
although they never wait: FastAPI runs plain functions on a thread pool.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import Depends, Request

from comfy_gateway.api.context import ApiContext, api_context
from comfy_gateway.api.errors import ApiError

API_KEY_HEADER = "x-api-key"
API_KEY_QUERY = "api_key"
_REALM = 'Bearer realm="comfy-gateway"'


def presented_api_key(request: Request) -> str | None:
    """The key the caller sent, headers first; None when there is none."""
    header = request.headers.get(API_KEY_HEADER, "").strip()
    if header:
        return header
    bearer = _bearer_token(request.headers.get("authorization", ""))
    if bearer:
        return bearer
    return request.query_params.get(API_KEY_QUERY, "").strip() or None


def _bearer_token(authorization: str) -> str | None:
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip() or None


def unauthorized(key_was_sent: bool) -> ApiError:
    """401 with ``WWW-Authenticate`` (RFC 6750 names a wrong key ``invalid_token``)."""
    if key_was_sent:
        return ApiError(
            401,
            "unauthorized",
            "the API key is not valid",
            headers={"WWW-Authenticate": f'{_REALM}, error="invalid_token"'},
        )
    return ApiError(
        401,
        "unauthorized",
        "an API key is required: send X-API-Key, Authorization: Bearer, or ?api_key=",
        headers={"WWW-Authenticate": _REALM},
    )


async def optional_tenant(request: Request) -> str | None:
    """The caller's tenant, or None for an anonymous or wrong key (for public routes)."""
    return (await api_context(request)).keys.tenant_for(presented_api_key(request))


async def authenticated_tenant(request: Request) -> str:
    """The caller's tenant; 401 when the key is missing or wrong. (The context is read
    here, not declared as a sub-dependency: each dependency level costs FastAPI time.)"""
    key = presented_api_key(request)
    tenant = (await api_context(request)).keys.tenant_for(key)
    if tenant is None:
        raise unauthorized(key_was_sent=key is not None)
    return tenant


async def caller(request: Request) -> tuple[ApiContext, str]:
    """The app's context and the caller's tenant (401 when the key is missing or wrong),
    for the routes on every job's path that take the request alone: each declared
    dependency or parameter costs FastAPI more to solve than the rest of such a request."""
    return await api_context(request), await authenticated_tenant(request)


def documented_parameters(
    path: Sequence[str] = (), header: Sequence[str] = (), query: Sequence[str] = ()
) -> dict[str, Any]:
    """``openapi_extra`` naming the parameters a route reads from the request itself."""
    places = [("path", name) for name in path]
    places += [("header", name) for name in header] + [("query", name) for name in query]
    return {
        "parameters": [
            {"name": name, "in": place, "required": place == "path", "schema": {"type": "string"}}
            for place, name in places
        ]
    }


Tenant = Annotated[str, Depends(authenticated_tenant)]
OptionalTenant = Annotated[str | None, Depends(optional_tenant)]
Context = Annotated[ApiContext, Depends(api_context)]
