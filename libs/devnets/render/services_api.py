"""`/owners`, `/services` and `/services/{id}/deploys`: the base services jobs run from."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from devnets.render.clock import new_id, now
from devnets.render.guard import PLATFORM
from devnets.render.http import ApiError, json_body, paginate
from devnets.render.model import Service
from devnets.render.platform import RenderPlatform
from devnets.render.settings import Plan
from devnets.render.views import deploy_view, service_view

SERVICE_TYPE = "background_worker"  # jobs need a base service; only workers are emulated


def add_routes(app: web.Application) -> None:
    """Register the owner, service and deploy routes."""
    app.router.add_get("/owners", list_owners)
    app.router.add_get("/owners/{ownerId}", get_owner)
    app.router.add_post("/services", create_service)
    app.router.add_get("/services", list_services)
    app.router.add_get("/services/{serviceId}", get_service)
    app.router.add_delete("/services/{serviceId}", delete_service)
    app.router.add_post("/services/{serviceId}/suspend", suspend)
    app.router.add_post("/services/{serviceId}/resume", resume)
    app.router.add_post("/services/{serviceId}/deploys", trigger_deploy)
    app.router.add_get("/services/{serviceId}/deploys", list_deploys)
    app.router.add_get("/services/{serviceId}/deploys/{deployId}", get_deploy)


def owner_view(platform: RenderPlatform) -> dict[str, Any]:
    """The workspace the API key belongs to."""
    settings = platform.settings
    return {
        "id": settings.owner_id,
        "name": settings.owner_name,
        "email": settings.owner_email,
        "type": "team",
        "twoFactorAuthEnabled": False,
    }


async def list_owners(request: web.Request) -> web.Response:
    """GET /owners: `[{cursor, owner}]` with the one devnet workspace."""
    owner = owner_view(request.app[PLATFORM])
    return paginate(request, [(owner["id"], owner)], "owner")


async def get_owner(request: web.Request) -> web.Response:
    """GET /owners/{ownerId}."""
    owner = owner_view(request.app[PLATFORM])
    if request.match_info["ownerId"] != owner["id"]:
        raise ApiError(404, "owner not found")
    return web.json_response(owner)


async def create_service(request: web.Request) -> web.Response:
    """POST /services: 201 `{service, deployId}`; the deploy runs on (see the deploy status)."""
    platform = request.app[PLATFORM]
    service = parse_service(platform, await json_body(request))
    deploy = await platform.create_service(service)
    return web.json_response({"service": service_view(service), "deployId": deploy.id}, status=201)


async def list_services(request: web.Request) -> web.Response:
    """GET /services?name=&type=: `[{cursor, service}]`, newest first."""
    platform = request.app[PLATFORM]
    names = set(request.query.getall("name", []))
    services = sorted(platform.services.values(), key=lambda s: s.created_at, reverse=True)
    items = [(s.id, service_view(s)) for s in services if not names or s.name in names]
    return paginate(request, items, "service")


async def get_service(request: web.Request) -> web.Response:
    """GET /services/{serviceId}."""
    service = request.app[PLATFORM].service(request.match_info["serviceId"])
    return web.json_response(service_view(service))


async def delete_service(request: web.Request) -> web.Response:
    """DELETE /services/{serviceId}: 204; running jobs are stopped first."""
    await request.app[PLATFORM].delete_service(request.match_info["serviceId"])
    return web.Response(status=204)


async def suspend(request: web.Request) -> web.Response:
    """POST /services/{serviceId}/suspend: 202."""
    request.app[PLATFORM].set_suspended(request.match_info["serviceId"], True)
    return web.Response(status=202)


async def resume(request: web.Request) -> web.Response:
    """POST /services/{serviceId}/resume: 202."""
    request.app[PLATFORM].set_suspended(request.match_info["serviceId"], False)
    return web.Response(status=202)


async def trigger_deploy(request: web.Request) -> web.Response:
    """POST /services/{serviceId}/deploys `{imageUrl?}`: 201 with the new deploy."""
    platform = request.app[PLATFORM]
    service = platform.service(request.match_info["serviceId"])
    image = (await json_body(request)).get("imageUrl")
    if image is not None:
        service.image_path = _text(image, "imageUrl")
    deploy = await platform.deploy(service)
    return web.json_response(deploy_view(deploy), status=201)


async def list_deploys(request: web.Request) -> web.Response:
    """GET /services/{serviceId}/deploys: `[{cursor, deploy}]`, newest first."""
    service = request.app[PLATFORM].service(request.match_info["serviceId"])
    items = [(d.id, deploy_view(d)) for d in reversed(service.deploys)]
    return paginate(request, items, "deploy")


async def get_deploy(request: web.Request) -> web.Response:
    """GET /services/{serviceId}/deploys/{deployId}."""
    service = request.app[PLATFORM].service(request.match_info["serviceId"])
    deploy_id = request.match_info["deployId"]
    deploy = next((d for d in service.deploys if d.id == deploy_id), None)
    if deploy is None:
        raise ApiError(404, "deploy not found")
    return web.json_response(deploy_view(deploy))


def parse_service(platform: RenderPlatform, body: dict[str, Any]) -> Service:
    """Validate a create-service body into a Service, or a 400."""
    settings = platform.settings
    if body.get("type") != SERVICE_TYPE:
        raise ApiError(400, f"type must be {SERVICE_TYPE!r} on this devnet")
    owner_id = _text(body.get("ownerId"), "ownerId")
    if owner_id != settings.owner_id:
        raise ApiError(400, f"unknown ownerId {owner_id!r}")
    image = body.get("image")
    if not isinstance(image, dict):
        raise ApiError(400, "image {imagePath} is required for an image-backed service")
    details = body.get("serviceDetails") or {}
    if not isinstance(details, dict):
        raise ApiError(400, "serviceDetails must be an object")
    region = details.get("region", settings.regions[0])
    if region not in settings.regions:
        raise ApiError(400, f"region must be one of {settings.regions}")
    instances = details.get("numInstances", 1)
    if not isinstance(instances, int) or instances < 1:
        raise ApiError(400, "numInstances must be an integer >= 1")
    specific = details.get("envSpecificDetails") or {}
    command = specific.get("dockerCommand") if isinstance(specific, dict) else None
    moment = now()
    return Service(
        id=new_id("srv"),
        name=_text(body.get("name"), "name"),
        owner_id=owner_id,
        image_path=_text(image.get("imagePath"), "image.imagePath"),
        env=parse_env_vars(body.get("envVars", [])),
        plan=plan_named(platform, details.get("plan", "starter"), "serviceDetails.plan"),
        region=str(region),
        num_instances=instances,
        docker_command=str(command) if command else None,
        created_at=moment,
        updated_at=moment,
    )


def parse_env_vars(raw: Any) -> dict[str, str]:
    """`[{key, value}]` into a dict, or a 400."""
    if not isinstance(raw, list):
        raise ApiError(400, "envVars must be a list of {key, value}")
    env: dict[str, str] = {}
    for item in raw:
        if not isinstance(item, dict) or not isinstance(item.get("key"), str):
            raise ApiError(400, "envVars must be a list of {key, value}")
        env[item["key"]] = str(item.get("value", ""))
    return env


def plan_named(platform: RenderPlatform, name: Any, field: str) -> Plan:
    """A plan of the table, or a 400 naming the valid ones."""
    plans = platform.settings.plans
    if name not in plans:
        raise ApiError(400, f"{field} must be one of {sorted(plans)}")
    return plans[name]


def _text(value: Any, field: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ApiError(400, f"{field} is required")
    return value
