// The sandbox demo storefront. Every amount shown here comes from the service's answer: the page
// only sends what the shopper asked for (a product id, a quantity, a code) and renders the cart
// it gets back. No price is ever computed in the browser.
'use strict';

const SANDBOX_STRIPE = '/_sandbox/stripe';
const SANDBOX_KEY = 'sk_test_sandbox'; // the emulator's key; it only exists in sandbox mode

const state = {
  currency: 'usd',
  catalog: null,   // {products, shipping_rates}
  session: null,   // {id, token}: kept in memory only, a reload starts a new cart
  cart: null,      // the last cart the service answered
  busy: false,
};

const $ = (id) => document.getElementById(id);

function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === 'on') Object.entries(value).forEach(([ev, fn]) => el.addEventListener(ev, fn));
    else if (key in el) el[key] = value; // properties (type, name, value...)
    else el.setAttribute(key, value);
  }
  el.append(...children);
  return el;
}

function money(amount, currency = state.currency) {
  const format = new Intl.NumberFormat(undefined, { style: 'currency', currency });
  // Amounts are integers in minor units; the currency decides how many there are (jpy: none).
  const digits = format.resolvedOptions().maximumFractionDigits;
  return format.format(amount / 10 ** digits);
}

// A formatted amount with the exact integer beside it, so tests never parse display text.
function amountEl(amount, attrs = {}) {
  return h('span', { class: 'amount', 'data-amount': String(amount), ...attrs }, money(amount));
}

function setAmount(el, amount, prefix = '') {
  el.dataset.amount = String(amount);
  el.textContent = prefix + money(amount);
}

function say(message, kind = 'info') {
  const status = $('status');
  status.textContent = message;
  status.dataset.kind = kind;
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
    // Problems are RFC 9457 documents; `detail` is written for people, `code` for programs.
    const message = data?.detail || data?.error?.message || data?.title || `HTTP ${response.status}`;
    throw Object.assign(new Error(message), { code: data?.code, status: response.status });
  }
  return data;
}

const sessionPath = (suffix = '') => `/v1/checkout-sessions/${state.session.id}${suffix}`;
const authed = () => ({ Authorization: `Bearer ${state.session.token}` });
const change = (method, suffix, body) => api(method, sessionPath(suffix), body, authed());

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
    // Keep the previous cart: a refused change wrote nothing.
    say(error instanceof TypeError ? `Network error: ${error.message}` : error.message, 'error');
  } finally {
    state.busy = false;
    render();
    // Rendering rebuilds the cart lines; put keyboard focus back where it was.
    if (focused) document.querySelector(`[data-testid="${focused}"]`)?.focus();
  }
}

const product = (id) => state.catalog?.products.find((p) => p.id === id);
const lineOf = (id) => state.cart?.items.find((line) => line.product_id === id);

async function addProduct(id) {
  const name = product(id).name;
  if (!state.session) {
    // The first add creates the session, with the product already in it.
    const created = await api('POST', '/v1/checkout-sessions', {
      currency: state.currency,
      items: [{ product_id: id, quantity: 1 }],
    });
    state.session = { id: created.id, token: created.token };
    state.cart = created.cart;
    return `Started a checkout session and added ${name}.`;
  }
  state.cart = await change('POST', '/items', { product_id: id, quantity: 1 });
  return `Added ${name}.`;
}

async function setQuantity(id, quantity) {
  // An absolute quantity (not "+1") so a retried request cannot count twice.
  state.cart = await change('PATCH', `/items/${encodeURIComponent(id)}`, { quantity });
  return quantity === 0 ? `Removed ${product(id).name}.` : `${product(id).name}: ${quantity}.`;
}

async function removeProduct(id) {
  state.cart = await change('DELETE', `/items/${encodeURIComponent(id)}`);
  return `Removed ${product(id).name}.`;
}

async function chooseShipping(rateId) {
  if (!rateId) {
    state.cart = await change('DELETE', '/shipping');
    return 'No shipping.';
  }
  state.cart = await change('PUT', '/shipping', { shipping_rate_id: rateId });
  return `Shipping: ${state.cart.shipping.name}.`;
}

async function pay() {
  // Sandbox only: the emulator's test helper stands in for the shopper confirming the Payment
  // Element. A real storefront never holds a secret key.
  await api('POST', `${SANDBOX_STRIPE}/v1/test_helpers/checkout/sessions/${state.session.id}/complete`,
    undefined, { Authorization: `Bearer ${SANDBOX_KEY}` });
  // Read from Stripe, not from the service's last answer: the payment happened behind its back.
  state.cart = await api('GET', sessionPath(), undefined, { ...authed(), 'Cache-Control': 'no-cache' });
  return 'Paid (sandbox). The session is complete and can no longer change.';
}

async function loadCatalog(currency) {
  state.catalog = await api('GET', `/v1/catalog?currency=${encodeURIComponent(currency)}`);
  state.currency = currency;
  // A session has one currency for life, so switching starts a new cart. The old session is
  // simply left to expire, as an abandoned checkout would be.
  state.session = null;
  state.cart = null;
  renderCatalog();
}

function renderCatalog() {
  const { products, shipping_rates: rates } = state.catalog;
  $('products').replaceChildren(...products.filter((p) => p.kind === 'item').map((p) =>
    h('li', { class: 'product', 'data-testid': `product-${p.id}` },
      h('span', { class: 'name' }, p.name),
      amountEl(p.unit_amount, { 'data-testid': `price-${p.id}` }),
      h('button', { type: 'button', 'data-testid': `add-${p.id}`, 'aria-label': `Add ${p.name}`,
        on: { click: () => run(() => addProduct(p.id)) } }, 'Add'))));
  $('addon-list').replaceChildren(...products.filter((p) => p.kind === 'addon').map((p) =>
    h('label', { class: 'choice' },
      h('input', { type: 'checkbox', 'data-testid': `addon-${p.id}`,
        on: { change: (e) => run(() => (e.target.checked ? addProduct(p.id) : removeProduct(p.id))) } }),
      h('span', { class: 'name' }, p.name), amountEl(p.unit_amount))));
  const none = { id: '', name: 'No shipping', amount: null };
  $('shipping-list').replaceChildren(...[none, ...rates].map((rate) =>
    h('label', { class: 'choice' },
      h('input', { type: 'radio', name: 'shipping', value: rate.id,
        'data-testid': `shipping-${rate.id || 'none'}`,
        on: { change: () => run(() => chooseShipping(rate.id)) } }),
      h('span', { class: 'name' }, rate.name),
      rate.amount === null ? '' : amountEl(rate.amount))));
}

function renderLine(line) {
  const id = line.product_id;
  const isAddon = product(id)?.kind === 'addon';
  const step = (delta, label, text) => h('button', { type: 'button', class: 'step',
    'data-testid': `qty-${delta > 0 ? 'plus' : 'minus'}-${id}`, 'aria-label': `${label} ${line.name}`,
    on: { click: () => run(() => setQuantity(id, line.quantity + delta)) } }, text);
  return h('li', { class: 'line', 'data-testid': `line-${id}` },
    h('span', { class: 'name' }, line.name),
    h('span', { class: 'qty' },
      isAddon ? '' : step(-1, 'One less', '−'),
      h('output', { 'data-testid': `qty-${id}`, 'aria-label': `Quantity of ${line.name}` },
        String(line.quantity)),
      isAddon ? '' : step(+1, 'One more', '+')),
    amountEl(line.amount, { 'data-testid': `line-amount-${id}` }),
    h('button', { type: 'button', class: 'remove secondary', 'data-testid': `remove-${id}`,
      'aria-label': `Remove ${line.name}`, on: { click: () => run(() => removeProduct(id)) } }, 'Remove'));
}

function render() {
  const { cart, busy, session } = state;
  const open = cart?.status === 'open';
  $('app').setAttribute('aria-busy', String(busy));
  $('cart').dataset.sessionId = session?.id ?? '';
  $('currency').value = state.currency;

  const items = cart?.items ?? [];
  // Line items somebody else added to the session are shown and counted, never changed here.
  const others = (cart?.other_items ?? []).map((line) => h('li', { class: 'line other' },
    h('span', { class: 'name' }, `${line.name} (added by the shop)`), h('span', { class: 'qty' }),
    amountEl(line.amount)));
  $('lines').replaceChildren(...items.map(renderLine), ...others);
  $('empty').hidden = items.length + others.length > 0;

  const pill = $('session-status');
  pill.dataset.status = cart?.status ?? 'none';
  pill.textContent = !cart ? 'No session yet' : cart.status === 'complete' ? 'Paid (complete)'
    : cart.status === 'open' ? 'Open' : cart.status;

  // While a request is in flight, checkboxes and radios keep showing the shopper's pending
  // choice; afterwards they show what the service answered (so a refusal puts them back).
  if (!busy) {
    document.querySelectorAll('[data-testid^="addon-"]').forEach((box) => {
      box.checked = Boolean(lineOf(box.dataset.testid.slice('addon-'.length)));
    });
    const rate = cart?.shipping?.rate_id ?? '';
    document.querySelectorAll('input[name="shipping"]').forEach((radio) => {
      radio.checked = radio.value === rate;
    });
  }

  setAmount($('subtotal'), cart?.amount_subtotal ?? 0);
  setAmount($('discount-amount'), cart?.amount_discount ?? 0, cart?.amount_discount ? '−' : '');
  setAmount($('shipping-amount'), cart?.amount_shipping ?? 0);
  setAmount($('total'), cart?.amount_total ?? 0);
  $('discount-applied').textContent = cart?.discount ? `Code ${cart.discount.code} applied.` : '';

  // Changes stay enabled after payment on purpose: the service, not the page, says no (409).
  document.querySelectorAll('#app button, #app input, #app select').forEach((el) => {
    el.disabled = busy;
  });
  const needSession = !session;
  document.querySelectorAll('input[name="shipping"]').forEach((radio) => {
    radio.disabled ||= needSession;
  });
  $('discount-input').disabled ||= needSession;
  $('discount-apply').disabled ||= needSession;
  $('discount-remove').disabled ||= !cart?.discount;
  $('pay').disabled ||= !open || items.length === 0;
}

function bind() {
  $('currency').addEventListener('change', (e) => {
    const currency = e.target.value;
    run(async () => {
      await loadCatalog(currency);
      return `New cart in ${currency.toUpperCase()}.`;
    });
  });
  $('discount-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const code = $('discount-input').value.trim();
    if (!code) return say('Enter a discount code first.', 'error');
    run(async () => {
      state.cart = await change('PUT', '/discount', { code });
      $('discount-input').value = ''; // kept on failure, so the shopper can correct it
      return `Discount ${state.cart.discount?.code ?? code} applied.`;
    });
  });
  $('discount-remove').addEventListener('click', () => run(async () => {
    state.cart = await change('DELETE', '/discount');
    return 'Discount removed.';
  }));
  $('pay').addEventListener('click', () => run(pay));
}

bind();
run(async () => {
  await loadCatalog(state.currency);
  return 'Ready: add a product to start.';
});
