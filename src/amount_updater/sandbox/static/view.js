// The demo storefront's view: it draws the page from `state` (app.js) and wires the controls to
// app.js's actions. No decisions here beyond what to enable: the amounts are the service's.
'use strict';

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
  // Amounts are integers in the currency's minor unit; its exponent is the number of fraction
  // digits the currency has (jpy 0, usd 2, kwd 3).
  return format.format(amount / 10 ** format.resolvedOptions().maximumFractionDigits);
}

// A formatted amount with the exact integer beside it, so tests never parse display text.
const amountEl = (amount, attrs = {}) =>
  h('span', { class: 'amount', 'data-amount': String(amount), ...attrs }, money(amount));

function setAmount(el, amount, prefix = '') {
  el.dataset.amount = String(amount);
  el.textContent = prefix + money(amount);
}

function say(message, kind = 'info') {
  $('status').textContent = message;
  $('status').dataset.kind = kind;
}

const product = (id) => state.catalog?.products.find((p) => p.id === id);
const nameOf = (id) => product(id)?.name ?? id;
const lineOf = (id) => state.cart?.items.find((line) => line.product_id === id);
const atMax = (p) => (lineOf(p.id)?.quantity ?? 0) >= p.max_quantity;

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
        on: { change: (e) => run(() => (e.target.checked ? addProduct : removeProduct)(p.id)) } }),
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
    'data-testid': `qty-${delta > 0 ? 'plus' : 'minus'}-${id}`,
    'aria-label': `${label} ${line.name}`,
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
      'aria-label': `Remove ${line.name}`,
      on: { click: () => run(() => removeProduct(id)) } }, 'Remove'));
}

const statusText = () => ({ complete: 'paid' })[state.cart.status] ?? state.cart.status;

function render() {
  const { cart, busy, session } = state;
  const locked = Boolean(cart) && cart.status !== 'open'; // paid or expired: nothing changes now
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
  pill.textContent = cart ? statusText().replace(/^./, (c) => c.toUpperCase()) : 'No session yet';

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
  // Stripe's tax (null where Stripe computes none); in sandbox mode, at the emulator's rates.
  $('tax-row').hidden = cart?.amount_tax === null;
  $('tax-label').textContent = state.sandbox ? 'Tax (sandbox rates)' : 'Tax';
  setAmount($('tax-amount'), cart?.amount_tax ?? 0);
  if (cart?.tax_status === 'requires_location_inputs') {
    $('tax-amount').textContent = 'With your address'; // Stripe Tax has nothing to tax yet
  }
  setAmount($('total'), cart?.amount_total ?? 0);
  $('discount-applied').textContent = cart?.discount ? `Code ${cart.discount.code} applied.` : '';

  document.querySelectorAll('#app button, #app input, #app select').forEach((el) => {
    el.disabled = busy || locked;
  });
  // At a product's maximum per order, neither Add nor + is offered (the service would refuse).
  (state.catalog?.products ?? []).filter(atMax).forEach((p) => {
    document.querySelectorAll(`[data-testid="add-${p.id}"], [data-testid="qty-plus-${p.id}"]`)
      .forEach((button) => Object.assign(button, {
        disabled: true, title: `At most ${p.max_quantity} per order`,
      }));
  });
  const noSession = !session;
  document.querySelectorAll('input[name="shipping"]').forEach((radio) => {
    radio.disabled ||= noSession;
  });
  $('discount-input').disabled ||= noSession;
  $('discount-apply').disabled ||= noSession;
  $('discount-remove').disabled ||= !cart?.discount;
  renderAddress(noSession);
  $('pay').disabled ||= noSession;
  $('pay').hidden = locked;
  $('new-order').hidden = !locked;
  $('new-order').disabled = busy;
}
