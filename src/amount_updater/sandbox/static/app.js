// The demo storefront. Every amount shown here comes from the service's answer: the page only
// sends what the shopper asked for (a product id, a quantity, a code) and renders the cart it
// gets back. No price is ever computed in the browser.
//
// It follows Stripe's "update amount" client pattern: the page opens Stripe.js's Checkout on the
// session (initCheckout with its client secret, the Payment Element mounted) and every change
// goes through `actions.runServerUpdate(() => fetch(...))`, so that Stripe.js reads the session
// again after the service changed it. Without a publishable key (sandbox mode) the page loads a
// local stand-in of the same shape (stripe-sandbox.js) that talks to the emulated Stripe.
// view.js draws the page from `state`; address.js has the shipping address form.
'use strict';

const STRIPE_JS = 'https://js.stripe.com/clover/stripe.js'; // clover: initCheckout + loadActions
const SANDBOX_STRIPE_JS = '/_demo/static/stripe-sandbox.js';
const STORE = 'amount-updater-demo:session';

const state = {
  stripe: null,    // Stripe.js's Stripe object, or the sandbox stand-in
  sandbox: false,  // Stripe emulated in this server (tax at its sandbox rates)
  currency: 'usd',
  catalog: null,   // {currency, products, shipping_rates}
  session: null,   // {id, token, clientSecret, shipTo?}: in sessionStorage, its id in the URL
  serving: null,   // ids of the shipping rates that serve shipTo's country (null: no address)
  checkout: null,  // {actions, paymentElement}: Stripe.js's Checkout for the session
  cart: null,      // the last cart the service answered
  busy: false,
};

// Problems (RFC 9457) are written for developers: they carry ids and minor units. The shopper
// reads product names and money in the cart's currency instead.
const MESSAGES = {
  quantity_limit_exceeded: (p) => `At most ${p.max_quantity} × ${nameOf(p.product_id)} per order.`,
  amount_out_of_range: (p) => `A payment must be between ${money(p.minimum)} and `
    + `${money(p.maximum)}; this cart comes to ${money(p.amount)}.`,
  invalid_discount_code: (p) => (p.min_subtotal === undefined ? null
    : `This code needs items worth at least ${money(p.min_subtotal)}.`),
  country_not_served: (p) => notServedMessage(p),
};

function shopperMessage(problem, status) {
  const special = MESSAGES[problem?.code]?.(problem);
  // Otherwise the detail, with each quoted product id replaced by the product's name.
  const text = problem?.detail || problem?.title || `HTTP ${status}`;
  return special ?? text.replace(/'([\w-]+)'/g, (quoted, id) => (product(id)?.name ?? quoted));
}

async function api(method, path, body, headers = {}) {
  const init = { method, headers: { Accept: 'application/json', ...headers } };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const response = await fetch(path, init);
  const data = await response.json().catch(() => null);
  if (!response.ok) {
    const error = new Error(shopperMessage(data, response.status));
    throw Object.assign(error, { code: data?.code, status: response.status });
  }
  return data;
}

const sessionPath = () => `/v1/checkout-sessions/${state.session.id}`;
const authed = () => ({ Authorization: `Bearer ${state.session.token}` });
// `no-cache`: the service reads the session from Stripe rather than its own recent answer.
const readCart = () =>
  api('GET', sessionPath(), undefined, { ...authed(), 'Cache-Control': 'no-cache' });

// The session survives a reload: its token and client secret in sessionStorage (this tab only,
// never in the URL, which is shared and logged), its id in the URL.
function remember(session) {
  state.session = session;
  const url = new URL(location.href);
  if (session) {
    sessionStorage.setItem(STORE, JSON.stringify(session));
    url.searchParams.set('session', session.id);
  } else {
    sessionStorage.removeItem(STORE);
    url.searchParams.delete('session');
  }
  history.replaceState(null, '', url);
}

// Back to an empty cart. An open session is left to expire at Stripe, as an abandoned checkout
// would be: nothing was paid on it.
function forget() {
  state.checkout?.paymentElement.destroy();
  state.checkout = state.cart = state.serving = null;
  remember(null);
}

// Stripe.js's Checkout for the session: the Payment Element, and the actions every change and
// the payment go through. Stripe's notes name it initCheckout up to clover and
// initCheckoutElementsSdk from dahlia on (UNCONFIRMED which name a given script exposes, so the
// page takes whichever the loaded Stripe.js has).
async function openCheckout() {
  const init = state.stripe.initCheckoutElementsSdk ?? state.stripe.initCheckout;
  const checkout = init.call(state.stripe, { clientSecret: state.session.clientSecret });
  const paymentElement = checkout.createPaymentElement();
  paymentElement.mount('#payment-element');
  const loaded = await checkout.loadActions();
  if (loaded.type === 'error') throw new Error(`Stripe did not load: ${loaded.error.message}`);
  state.checkout = { actions: loaded.actions, paymentElement };
}

// The one way a change reaches the service: inside runServerUpdate, which runs the call and then
// has Stripe.js read the session again. The service's own answer (the cart, or its refusal in
// the shopper's words) is what the page shows, whether Stripe.js throws it or returns an error.
async function serverUpdate(method, suffix, body) {
  if (!state.checkout) await openCheckout();
  let refusal = null;
  const headers = { ...authed(), 'Idempotency-Key': crypto.randomUUID() };
  const call = () => api(method, sessionPath() + suffix, body, headers)
    .then((cart) => { state.cart = cart; }, (error) => { refusal = error; throw error; });
  const result = await state.checkout.actions.runServerUpdate(call).catch((error) => {
    throw refusal ?? error;
  });
  if (refusal) throw refusal;
  if (result?.type === 'error') {
    throw new Error(`The payment form did not refresh: ${result.error.message}`);
  }
}

async function addProduct(id) {
  if (state.session) {
    await serverUpdate('POST', '/items', { product_id: id, quantity: 1 });
    return `Added ${nameOf(id)}.`;
  }
  // The first add creates the session with the product already in it.
  const created = await api('POST', '/v1/checkout-sessions', {
    currency: state.currency, items: [{ product_id: id, quantity: 1 }],
  });
  remember({ id: created.id, token: created.token, clientSecret: created.client_secret });
  state.cart = created.cart;
  await openCheckout();
  return `Started a checkout session and added ${nameOf(id)}.`;
}

// Removing the last item: the service refuses a change that would leave a session empty (422
// cart_empty: Stripe keeps at least one line item on a session), so the page does not ask. It
// forgets the session and shows the empty cart; the next add starts a new session.
async function removeProduct(id) {
  const rest = state.cart.items.filter((line) => line.product_id !== id);
  if (rest.length + (state.cart.other_items ?? []).length === 0) {
    forget();
    return `Removed ${nameOf(id)}. Your cart is empty.`;
  }
  await serverUpdate('DELETE', `/items/${encodeURIComponent(id)}`);
  return `Removed ${nameOf(id)}.`;
}

async function setQuantity(id, quantity) {
  if (quantity === 0) return removeProduct(id);
  // An absolute quantity (not "+1") so a retried request cannot count twice.
  await serverUpdate('PATCH', `/items/${encodeURIComponent(id)}`, { quantity });
  return `${nameOf(id)}: ${quantity}.`;
}

async function chooseShipping(rateId) {
  if (!rateId) await serverUpdate('DELETE', '/shipping');
  else await serverUpdate('PUT', '/shipping', { shipping_rate_id: rateId });
  return rateId ? `Shipping: ${state.cart.shipping.name}.` : 'No shipping.';
}

async function pay() {
  if (!state.checkout) await openCheckout();
  const result = await state.checkout.actions.confirm();
  if (result.type === 'error') throw new Error(result.error.message);
  // Read from the service, not from its last answer: the payment happened behind its back.
  state.cart = await readCart();
  return 'Paid. The order is complete and can no longer change.';
}

async function loadCatalog(currency) {
  state.catalog = await api('GET', `/v1/catalog?currency=${encodeURIComponent(currency)}`);
  state.currency = currency;
  await loadServing();
  renderCatalog();
}

// On load: the stored session, if the URL names it (or names none, as after Stripe's redirect).
async function restore() {
  const stored = JSON.parse(sessionStorage.getItem(STORE) ?? 'null');
  const wanted = new URLSearchParams(location.search).get('session') ?? stored?.id;
  if (!wanted || stored?.id !== wanted) {
    if (wanted) remember(null); // a cart opened in another tab or browser: its token is not here
    await loadCatalog(state.currency);
    return wanted ? 'That cart was opened elsewhere: add a product to start a new one.'
      : 'Ready: add a product to start.';
  }
  remember(stored);
  fillAddressForm(stored.shipTo);
  try {
    state.cart = await readCart();
  } catch (error) {
    if (!(error.status < 500)) throw error; // the service or the network failed: keep the session
    forget(); // unknown, or its token expired with it
    await loadCatalog(state.currency);
    return `Your previous cart could not be loaded: ${error.message} Add a product to start again.`;
  }
  await loadCatalog(state.cart.currency);
  if (state.cart.status !== 'open') return `This order is ${statusText()}: start a new order.`;
  await openCheckout();
  return 'Welcome back: your cart is as you left it.';
}

// Runs one request at a time: every control is disabled while it is in flight, so a double
// click cannot send a change computed from a cart that is about to be replaced.
async function run(action) {
  if (state.busy) return;
  const focused = document.activeElement?.dataset?.testid;
  state.busy = true;
  render();
  try {
    const message = await action();
    if (message) say(message);
  } catch (error) {
    // A refused change wrote nothing: the previous cart stays. (A page out of date may still ask
    // to empty the cart: that is removing the last item, so the cart is forgotten.)
    if (error.code === 'cart_empty') forget();
    say(error instanceof TypeError ? `Network error: ${error.message}` : error.message, 'error');
  } finally {
    state.busy = false;
    render();
    // Rendering rebuilds the cart lines; put keyboard focus back where it was.
    if (focused) document.querySelector(`[data-testid="${focused}"]`)?.focus();
  }
}

function bind() {
  $('currency').addEventListener('change', (e) => {
    const currency = e.target.value; // read now: rendering puts the current one back
    run(async () => {
      forget(); // a session has one currency for life, so switching starts a new cart
      await loadCatalog(currency);
      return `New cart in ${currency.toUpperCase()}.`;
    });
  });
  $('discount-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const code = $('discount-input').value.trim();
    if (!code) return say('Enter a discount code first.', 'error');
    run(async () => {
      await serverUpdate('PUT', '/discount', { code });
      $('discount-input').value = ''; // kept on failure, so the shopper can correct it
      return `Discount ${state.cart.discount?.code ?? code} applied.`;
    });
  });
  $('discount-remove').addEventListener('click', () => run(async () => {
    await serverUpdate('DELETE', '/discount');
    return 'Discount removed.';
  }));
  bindAddress();
  $('pay').addEventListener('click', () => run(pay));
  $('new-order').addEventListener('click', () => run(async () => {
    forget();
    return 'New order: add a product to start.';
  }));
}

function loadScript(src) {
  return new Promise((resolve, reject) => document.head.append(h('script', { src,
    on: { load: resolve, error: () => reject(new Error(`${src} could not be loaded.`)) } })));
}

// Which Stripe.js: the real one with the server's test-mode publishable key, or (sandbox mode,
// no key) the local stand-in.
async function start() {
  const config = await api('GET', '/_demo/config');
  const { publishable_key: key, sandbox } = config;
  state.sandbox = sandbox;
  renderCountries(config.shipping_countries ?? []);
  $('mode-note').dataset.mode = sandbox ? 'sandbox' : 'test';
  $('mode-note').textContent = sandbox
    ? 'Sandbox. Stripe is emulated inside this server: no real payment is ever made, and tax '
      + 'comes from fixed sandbox rates per country, not from Stripe Tax.'
    : 'Test mode. Stripe.js runs with a test key: pay with a Stripe test card.';
  $('pay').textContent = sandbox ? 'Pay (sandbox)' : 'Pay';
  if (!key && !sandbox) throw new Error('This server has no Stripe publishable key for the demo.');
  await loadScript(key ? STRIPE_JS : SANDBOX_STRIPE_JS);
  state.stripe = window.Stripe(key);
  return restore();
}

bind();
run(start);
