"""Checkout Session routes: create here; reading and changes come from the shared cart routes."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, status

from amount_updater.api.answers import Created
from amount_updater.api.deps import ANONYMOUS_OR_API_KEY, OriginDep, SessionServiceDep, admitted
from amount_updater.api.idempotency import IdempotentRoute
from amount_updater.api.rate_limits import limit_creation
from amount_updater.api.request_bodies import SESSION_ID_PATTERN, CheckoutSessionCreate
from amount_updater.api.responses import CLIENT, STRIPE, problems
from amount_updater.api.routes.carts import add_cart_routes
from amount_updater.service.checkout_sessions import CheckoutSessionService
from amount_updater.service.session_options import CustomerDetails

router = APIRouter(
    prefix="/v1/checkout-sessions",
    tags=["checkout sessions"],
    route_class=IdempotentRoute,
    dependencies=[Depends(admitted)],
)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Create an Elements Checkout Session priced from the catalog",
    responses=problems(403, 409, *CLIENT, *STRIPE),
    dependencies=[Depends(limit_creation)],
    openapi_extra=ANONYMOUS_OR_API_KEY,
)
async def create_checkout_session(
    body: CheckoutSessionCreate, sessions: SessionServiceDep, origin: OriginDep
) -> Created:
    created = await sessions.create(
        body.new_cart(),
        body.return_url,
        origin,
        CustomerDetails(
            email=body.customer_email,
            customer=body.customer,
            client_reference_id=body.client_reference_id,
            metadata=body.metadata or {},
            locale=body.locale,
            automatic_tax=body.automatic_tax,
        ),
    )
    return Created.of(created)


def _service(request: Request) -> CheckoutSessionService:
    service: CheckoutSessionService = request.state.sessions
    return service


add_cart_routes(
    router,
    service=_service,
    id_name="session_id",
    id_pattern=SESSION_ID_PATTERN,
    noun="checkout session",
    addresses=True,
)
