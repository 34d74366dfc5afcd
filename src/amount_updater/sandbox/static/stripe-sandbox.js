// Sandbox mode's stand-in for Stripe.js, with the shape of the part the demo uses:
// Stripe(key).initCheckout({clientSecret}) → createPaymentElement().mount(selector), and
// loadActions() → {runServerUpdate(fn), confirm()}. Its Stripe is the emulator inside this
// server, so nothing leaves the machine. (A real storefront never holds a secret key: the
// emulator's key exists only in sandbox mode.)
'use strict';

window.Stripe = () => ({
  initCheckout({ clientSecret }) {
    const path = `/_sandbox/stripe/v1/checkout/sessions/${clientSecret.split('_secret_')[0]}`;
    const emulator = async (method, url) => {
      const headers = { Authorization: 'Bearer sk_test_sandbox' };
      const response = await fetch(url, { method, headers });
      const body = await response.json();
      if (!response.ok) throw new Error(body.error?.message ?? `HTTP ${response.status}`);
      return body;
    };
    let box = null; // where the Payment Element is mounted
    // As Stripe.js does after a server update: read the session again. The placeholder shows the
    // amount the emulated Stripe now holds.
    const refreshed = async () => {
      const held = await emulator('GET', path);
      const { currency } = held;
      const format = new Intl.NumberFormat(undefined, { style: 'currency', currency });
      const amount = held.amount_total / 10 ** format.resolvedOptions().maximumFractionDigits;
      box?.replaceChildren('Payment Element stand-in (sandbox: no card needed). '
        + `Stripe holds ${format.format(amount)}.`);
      if (box) box.dataset.amount = String(held.amount_total);
      return { type: 'success', session: held };
    };
    const actions = {
      runServerUpdate: (serverCall) => serverCall().then(refreshed),
      // The shopper confirming the Payment Element: the emulator completes the session.
      confirm: () => emulator('POST', `${path.replace('/v1/', '/v1/test_helpers/')}/complete`)
        .then(refreshed),
    };
    return {
      createPaymentElement: () => ({
        mount(selector) {
          box = document.querySelector(selector);
          refreshed().catch(() => {}); // the page reports errors from its own calls
        },
        destroy() {
          box?.replaceChildren();
          delete box?.dataset.amount;
          box = null;
        },
      }),
      loadActions: async () => ({ type: 'success', actions }),
    };
  },
});
