// The demo storefront's shipping address: the form, the countries it offers and the change it
// sends. The countries are the ones the shop's shipping rates serve (`/_demo/config`). The
// service keeps the address on the session (Stripe's collected shipping details), offers only
// the rates that serve its country, and Stripe computes the tax from it. In sandbox mode that
// tax comes from the emulator's fixed sandbox rates (a made-up rate per country), not Stripe Tax.
'use strict';

// Country names in the shopper's language (the code itself where the browser has none).
const regionNames = new Intl.DisplayNames(undefined, { type: 'region' });

function countryName(code) {
  try {
    return regionNames.of(code) ?? code;
  } catch {
    return code; // not a region code Intl knows
  }
}

const shipTo = () => state.session?.shipTo ?? null;

// The form is shown only when the server collects addresses in some countries.
function renderCountries(countries) {
  $('address-form').hidden = countries.length === 0;
  $('address-country').replaceChildren(h('option', { value: '' }, 'Choose a country'),
    ...countries.map((code) => h('option', { value: code }, countryName(code))));
}

// What the shopper typed, in the shape of Stripe's Address Element value ({name, address}).
function enteredAddress() {
  const value = (field) => $(`address-${field}`).value.trim();
  const address = { line1: value('line1'), country: value('country') };
  if (value('city')) address.city = value('city');
  if (value('postal-code')) address.postal_code = value('postal-code');
  return { name: value('name'), address };
}

function fillAddressForm(entered) {
  const { name, address } = entered ?? { name: '', address: {} };
  $('address-name').value = name;
  $('address-line1').value = address.line1 ?? '';
  $('address-city').value = address.city ?? '';
  $('address-postal-code').value = address.postal_code ?? '';
  $('address-country').value = address.country ?? '';
}

// The rates that serve the session's country (the service's catalog, filtered by it), or null
// before an address is known: then every rate is shown.
async function loadServing() {
  const country = shipTo()?.address.country;
  state.serving = null;
  if (!country) return;
  const query = `currency=${encodeURIComponent(state.currency)}&country=${country}`;
  const listing = await api('GET', `/v1/catalog?${query}`);
  state.serving = listing.shipping_rates.map((rate) => rate.id);
}

// One change: the service sets the address and, if the chosen rate does not serve it, the
// cheapest one that does, in a single write to Stripe (which recomputes the tax).
async function setShipTo(entered) {
  await serverUpdate('PUT', '/shipping-address', entered);
  remember({ ...state.session, shipTo: entered });
  await loadServing();
  const where = countryName(entered.address.country);
  const rate = state.cart.shipping;
  return rate ? `Shipping to ${where}: ${rate.name}.` : `Shipping to ${where}.`;
}

// What the shopper reads when no shipping rate serves the country (422 country_not_served).
function notServedMessage(problem) {
  const where = countryName(problem.country);
  if (!problem.detail || problem.detail.startsWith('No shipping rate')) {
    return `Sorry, we do not ship to ${where}.`;
  }
  return `${problem.detail.replace(problem.country, where)} Choose another shipping option.`;
}

function renderAddress(noSession) {
  const entered = shipTo();
  $('address-applied').textContent = entered
    ? `Shipping to ${entered.name}, ${countryName(entered.address.country)}.` : '';
  document.querySelectorAll('#address-form input, #address-form select, #address-form button')
    .forEach((el) => { el.disabled ||= noSession; });
  // Only the rates that serve the address's country are offered ("No shipping" always is).
  document.querySelectorAll('input[name="shipping"]').forEach((radio) => {
    radio.closest('label').hidden = Boolean(radio.value && state.serving
      && !state.serving.includes(radio.value));
  });
}

function bindAddress() {
  $('address-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const entered = enteredAddress();
    if (!entered.name || !entered.address.line1 || !entered.address.country) {
      say('Enter your name, street address and country first.', 'error');
      return;
    }
    run(() => setShipTo(entered));
  });
}
