"""PaymentIntent routes: the same API as Checkout Sessions, with the cart kept on the intent."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, status

from amount_updater.api.answers import Created
from amount_updater.api.deps import ANONYMOUS_OR_API_KEY, IntentServiceDep, OriginDep, admitted
from amount_updater.api.idempotency import IdempotentRoute
from amount_updater.api.rate_limits import limit_creation
from amount_updater.api.request_bodies import INTENT_ID_PATTERN, CartIn
from amount_updater.api.responses import CLIENT, STRIPE, problems
from amount_updater.api.routes.carts import add_cart_routes
from amount_updater.service.payment_intents import PaymentIntentService

router = APIRouter(
    prefix="/v1/payment-intents",
    tags=["payment intents"],
    route_class=IdempotentRoute,
    dependencies=[Depends(admitted)],
)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Create a PaymentIntent whose amount is the cart priced from the catalog",
    responses=problems(409, *CLIENT, *STRIPE),
    dependencies=[Depends(limit_creation)],
    openapi_extra=ANONYMOUS_OR_API_KEY,
)
async def create_payment_intent(
    body: CartIn, intents: IntentServiceDep, origin: OriginDep
) -> Created:
    return Created.of(await intents.create(body.new_cart(), origin))


def _service(request: Request) -> PaymentIntentService:
    service: PaymentIntentService = request.state.intents
    return service


add_cart_routes(
    router,
    service=_service,
    id_name="intent_id",
    id_pattern=INTENT_ID_PATTERN,
    noun="payment intent",
)
